"""The county office's roster import page (/console/roster): its words, zh-CN first."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "roster.title": ("农户名册导入", "Roster import"),
    "roster.lede": (
        "选择县扶贫办导出的 CSV 文件（UTF-8），首行为表头：",
        "Choose the county office's CSV file (UTF-8); its first line is the header:",
    ),
    "roster.kept": (
        "正确的行被导入（已登记的户被更新），错误的行连同行号和原因列出，可下载后改正再导入。",
        "Good lines are imported (households already registered are updated); bad ones are listed with their line "
        "number and reason, to download, correct and import again.",
    ),
    "roster.file": ("CSV 文件", "CSV file"),
    "roster.county": ("县（区）代码", "County code"),
    "roster.county_hint": (
        "可选：只导入该县的行，其他县的行被拒绝", "Optional: only this county's lines are imported, others refused"
    ),
    "roster.effective_on": ("名册生效日期", "Roster effective date"),
    "roster.start": ("开始导入", "Start import"),
    "roster.noscript": (
        "导入需要浏览器启用 JavaScript（文件直接上传，进度由服务器提供）。",
        "The import needs JavaScript (the file is uploaded directly, its progress fed by the server).",
    ),
    "roster.progress": ("导入进度", "Progress"),
    "roster.progress_bar": ("已读取的比例", "Share of the file read"),
    "roster.uploading": ("正在上传……", "Uploading…"),
    "roster.read_lines": ("已读取行数", "Lines read"),
    "roster.finishing": ("文件已读完，正在写入名册……", "File read; writing the roster…"),
    "roster.done": ("导入完成", "Import finished"),
    "roster.failed": ("导入被拒绝，名册未作任何更改", "The import was refused: the roster was not changed"),
    "roster.network": ("上传中断，名册未作任何更改，请重试", "The upload was cut off: nothing was changed; try again"),
    "roster.result": ("导入结果", "Result"),
    "roster.imported": ("新登记户数", "Households registered"),
    "roster.updated": ("更新户数", "Households updated"),
    "roster.unchanged": ("未变化户数", "Households unchanged"),
    "roster.rejected_count": ("被拒绝的行数", "Lines rejected"),
    "roster.rejected": ("被拒绝的行", "Rejected lines"),
    "roster.rejected_none": ("没有被拒绝的行。", "No line was rejected."),
    "roster.rejected_capped": ("仅列出前 {shown} 行（共 {count} 行）。", "The first {shown} of {count} are listed."),
    "roster.line": ("行号", "Line"),
    "roster.code": ("代码", "Code"),
    "roster.reason": ("原因", "Reason"),
    "roster.original": ("原始行内容", "Line as sent"),
    "roster.download": ("下载被拒绝的行（CSV）", "Download rejected lines (CSV)"),
}
