"""Word documents built offline (python-docx): the toolkit, the 整改通知书 (issue 19).

The toolkit, for any package above this one (reporting, bulletins):

    from inspection.documents import blocks, charts, downloads, qr, styles

    doc = styles.new_document()                  # A4, GB/T 9704 margins, Chinese fonts declared
    blocks.title(doc, "XX镇2022年度网格化巡查执法工作总结")
    blocks.heading(doc, "一、总体情况")
    blocks.paragraph(doc, summary_zh)            # 宋体, first line indented two characters
    blocks.table(doc, ["村", "拆除(处)"], [["一村", 2]])   # header bold; int/float right-aligned
    png = charts.monthly_chart_png([(("发现", "Found"), found_by_month)], kind="bar")
    blocks.picture(doc, png, width_mm=150)
    blocks.caption(doc, "图1 每月发现与整改问题数")
    blocks.picture(doc, qr.qr_png("https://…/cases/7"), width_mm=30)
    data = styles.to_bytes(doc)
    return downloads.docx_response(data, "平岗镇2022年度报告.docx", fallback="report-2022.docx")

Every run carries w:eastAsia (styles.set_run_font); pictures draw Chinese only when a CJK font is
installed (geodata.plot_fonts), so captions carry the Chinese.
"""
