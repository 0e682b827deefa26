// A box that scrolls on its own (a wide table on a phone, a draft's pages) takes the keyboard's
// focus while it scrolls, so that a person without a mouse or a touch screen can scroll it with
// the arrow keys (WCAG 2.1.1). Checked again when an image loads and when the window turns.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll(".table-responsive, .dhtn-pages").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("data-scroll-focus", "");
      } else if (!scrolls && box.hasAttribute("data-scroll-focus")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-scroll-focus");
      }
    });
  }
  mark();
  // An image's "load" does not reach the window (the DOM stops it at the document): each
  // image's is caught on the document, the page's own on the window.
  document.addEventListener("load", mark, true);
  window.addEventListener("load", mark);
  var timer = null;
  window.addEventListener("resize", function () {
    clearTimeout(timer);
    timer = setTimeout(mark, 150);
  });
})();
