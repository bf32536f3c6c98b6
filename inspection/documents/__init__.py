"""Word documents built offline (python-docx): the toolkit, the 整改通知书 (issue 19)."""
