"""Printable outputs: registers (sổ) as DOCX/XLSX, the processing slip of an incoming document."""
