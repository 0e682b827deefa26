#!/usr/bin/env bash
# Installs the Debian packages DHTN needs, only those missing (idempotent, quiet).
#   scripts/install-system-deps.sh          everything the tests need (make test)
#   scripts/install-system-deps.sh run      what the application itself uses (make run)
#   poppler-utils       pdftoppm / pdfsig: render and independently check signed PDFs
#   softhsm2, opensc    a PKCS#11 token for the signing tests
#   libreoffice-writer-nogui, fonts-liberation2   DOCX -> PDF with Times New Roman metrics
#   python3-uno         drives the warm LibreOffice of the DOCX converter (app/conversion.py)
#   chromium            headless browser tests (Playwright drives /usr/bin/chromium)
#   bubblewrap          bwrap: LibreOffice and pdftoppm run on untrusted files without network
#                       (app/sandbox.py; prlimit for their limits comes with util-linux)
#   xmlsec1             an independent XML-DSig signer/verifier for the signed-package tests
#   ocrmypdf, tesseract-ocr, tesseract-ocr-vie, unpaper
#                       OCR of scans and photos (app/ocr.py, in the sandbox): Tesseract's
#                       Vietnamese model; OCRmyPDF brings Ghostscript, qpdf and img2pdf
#   nodejs              runs the local Web Push service of the push tests (tests/push, npm ci)
#   nginx-light         the reverse proxy of deploy/nginx/dhtn.conf, served in tests/deploy
set -euo pipefail
if [ "${1:-test}" = "run" ]; then
  packages=(poppler-utils libreoffice-writer-nogui fonts-liberation2 python3-uno bubblewrap ocrmypdf tesseract-ocr tesseract-ocr-vie unpaper)
else
  packages=(poppler-utils softhsm2 opensc libreoffice-writer-nogui fonts-liberation2 python3-uno chromium bubblewrap xmlsec1 ocrmypdf tesseract-ocr tesseract-ocr-vie unpaper nodejs nginx-light)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing system packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
