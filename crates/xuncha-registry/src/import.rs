//! Reading the published lists (名录) from CSV or JSON.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::credit_code::CreditCode;
use crate::entry::{Entry, Origin};
use crate::{Date, RegistryError};

/// The columns a list must or may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    /// Registered name (required).
    Name,
    /// 统一社会信用代码.
    CreditCode,
    /// Licence number (required).
    LicenceNo,
    /// Licensed scope.
    Scope,
    /// Issuing authority.
    Authority,
    /// Last day of validity.
    ValidUntil,
    /// Region.
    Region,
}

impl Column {
    /// Every column.
    pub const ALL: [Column; 7] = [
        Column::Name,
        Column::CreditCode,
        Column::LicenceNo,
        Column::Scope,
        Column::Authority,
        Column::ValidUntil,
        Column::Region,
    ];

    /// The English header.
    pub fn as_str(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::CreditCode => "credit_code",
            Column::LicenceNo => "licence_no",
            Column::Scope => "scope",
            Column::Authority => "authority",
            Column::ValidUntil => "valid_until",
            Column::Region => "region",
        }
    }

    /// Headers accepted for it besides the English one, as the 人社 lists write them.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::Name => &[
                "机构名称",
                "单位名称",
                "名称",
                "企业名称",
                "机构全称",
                "服务机构名称",
                "人力资源服务机构名称",
            ],
            Column::CreditCode => &["统一社会信用代码", "社会信用代码", "信用代码"],
            Column::LicenceNo => &[
                "license_no",
                "licence",
                "license",
                "许可证编号",
                "许可证号",
                "许可证号码",
                "许可编号",
                "证书编号",
            ],
            Column::Scope => &["许可范围", "经营范围", "服务范围", "许可事项", "业务范围"],
            Column::Authority => &["发证机关", "发证机构", "发证单位", "许可机关", "审批机关"],
            Column::ValidUntil => &[
                "有效期至",
                "有效期",
                "有效期限",
                "有效截止日期",
                "截止日期",
                "到期日期",
            ],
            Column::Region => &["所在地区", "地区", "所在地", "区域", "所属地区", "行政区划"],
        }
    }

    /// The column a header names, if any (case, width, spaces and a BOM ignored).
    pub fn from_header(header: &str) -> Option<Column> {
        let h: String = header
            .trim_start_matches('\u{FEFF}')
            .chars()
            .map(|c| match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                _ => c,
            })
            .filter(|c| !c.is_whitespace() && *c != '*')
            .collect::<String>()
            .to_ascii_lowercase();
        Column::ALL
            .into_iter()
            .find(|c| c.as_str() == h || c.aliases().contains(&h.as_str()))
    }
}

/// A row that was skipped, or kept with a warning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// File as given.
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// What is wrong.
    pub message: String,
    /// Whether the row was skipped (else it was loaded and this is a warning).
    pub skipped: bool,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.skipped { "skipped" } else { "warning" };
        write!(f, "{}:{}: {what}: {}", self.file, self.line, self.message)
    }
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// The file.
    pub file: String,
    /// Data rows read (blank rows not counted).
    pub rows: usize,
    /// Rows loaded.
    pub loaded: usize,
    /// Rows skipped.
    pub skipped: usize,
    /// Every skipped row and warning, with file:line.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let warnings = self.problems.iter().filter(|p| !p.skipped).count();
        write!(
            f,
            "{}: {} rows, {} loaded, {} skipped, {} warnings",
            self.file, self.rows, self.loaded, self.skipped, warnings
        )
    }
}

struct Rows {
    file: Arc<str>,
    entries: Vec<Entry>,
    report: ImportReport,
}

impl Rows {
    fn new(file: &str) -> Rows {
        Rows {
            file: Arc::from(file),
            entries: Vec::new(),
            report: ImportReport {
                file: file.to_string(),
                ..ImportReport::default()
            },
        }
    }

    fn problem(&mut self, line: u64, message: String, skipped: bool) {
        if skipped {
            self.report.skipped += 1;
        }
        self.report.problems.push(Problem {
            file: self.file.to_string(),
            line,
            message,
            skipped,
        });
    }

    /// One row, from its cells by column.
    fn row(&mut self, line: u64, cells: &HashMap<Column, String>) {
        if cells.values().all(|v| v.trim().is_empty()) {
            return;
        }
        self.report.rows += 1;
        let cell = |c: Column| cells.get(&c).map_or("", |s| s.trim());
        let valid_until = match Date::parse_validity(cell(Column::ValidUntil)) {
            Ok(d) => d,
            Err(e) => return self.problem(line, format!("valid_until: {e}"), true),
        };
        let entry = match Entry::new(cell(Column::Name), cell(Column::LicenceNo)) {
            Ok(e) => e,
            Err(e) => return self.problem(line, e.to_string(), true),
        };
        let code = cell(Column::CreditCode);
        if !code.is_empty() {
            if let Err(e) = CreditCode::parse(&code.to_ascii_uppercase()) {
                self.problem(
                    line,
                    format!("credit code `{code}`: {e} (kept as listed)"),
                    false,
                );
            }
        }
        self.entries.push(
            entry
                .with_credit_code(code)
                .with_scope(cell(Column::Scope))
                .with_authority(cell(Column::Authority))
                .with_valid_until(valid_until)
                .with_region(cell(Column::Region))
                .with_origin(Origin {
                    file: self.file.clone(),
                    line,
                }),
        );
        self.report.loaded += 1;
    }

    fn finish(self) -> (Vec<Entry>, ImportReport) {
        (self.entries, self.report)
    }
}

/// Reads a list from a file: JSON if it ends in `.json`, `.jsonl` or `.ndjson` or
/// starts with `[` or `{`, else CSV (tab-separated for `.tsv`). The text must be UTF-8
/// (with or without a BOM). Bad rows are skipped and reported with file:line; a file
/// without a name or licence-number column is an error.
pub fn read_file(path: &Path) -> Result<(Vec<Entry>, ImportReport), RegistryError> {
    let bytes = std::fs::read(path).map_err(|source| RegistryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| RegistryError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    let name = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    let first = text
        .trim_start_matches('\u{FEFF}')
        .trim_start()
        .chars()
        .next();
    if matches!(ext.as_str(), "json" | "jsonl" | "ndjson") || matches!(first, Some('[' | '{')) {
        read_json(&text, &name)
    } else {
        read_csv(&text, &name, if ext == "tsv" { b'\t' } else { b',' })
    }
}

fn missing(file: &str, column: Column, header: &str) -> RegistryError {
    RegistryError::MissingColumn {
        path: PathBuf::from(file),
        column: column.as_str(),
        aliases: column.aliases().join(", "),
        header: header.to_string(),
    }
}

/// Reads a CSV list. `file` names it in reports. The header row names the columns (see
/// [`Column::from_header`]); unknown columns are ignored.
///
/// ```
/// use xuncha_registry::read_csv;
/// let csv = "机构名称,许可证编号,有效期至\n示例人力资源有限公司,990100120105,2028-12-31\n,990100120106,\n";
/// let (entries, report) = read_csv(csv, "list.csv", b',').unwrap();
/// assert_eq!((entries.len(), report.skipped), (1, 1));
/// assert_eq!(report.problems[0].to_string(), "list.csv:3: skipped: the agency name is empty");
/// ```
pub fn read_csv(
    text: &str,
    file: &str,
    delimiter: u8,
) -> Result<(Vec<Entry>, ImportReport), RegistryError> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| RegistryError::Syntax {
            path: PathBuf::from(file),
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let columns: Vec<Option<Column>> = headers.iter().map(Column::from_header).collect();
    let header_line = headers.iter().collect::<Vec<_>>().join(",");
    for required in [Column::Name, Column::LicenceNo] {
        if !columns.contains(&Some(required)) {
            return Err(missing(file, required, &header_line));
        }
    }
    let mut rows = Rows::new(file);
    let mut record = csv::StringRecord::new();
    // The reader's own line count skips blank lines; count newlines up to each record's
    // byte offset instead, so reported lines are the file's.
    let bytes = text.trim_start_matches('\u{FEFF}').as_bytes();
    let (mut at, mut at_line) = (0usize, 1u64);
    let mut line_of = |byte: u64| {
        let mut byte = (byte as usize).min(bytes.len());
        // A record's position is where the reader resumed, before any blank lines.
        while byte < bytes.len() && matches!(bytes[byte], b'\n' | b'\r') {
            byte += 1;
        }
        if byte >= at {
            at_line += bytes[at..byte].iter().filter(|b| **b == b'\n').count() as u64;
            at = byte;
        }
        at_line
    };
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| line_of(p.byte()));
                if record.len() != headers.len() && record.iter().any(|f| !f.trim().is_empty()) {
                    rows.report.rows += 1;
                    rows.problem(
                        line,
                        format!("{} fields, the header has {}", record.len(), headers.len()),
                        true,
                    );
                    continue;
                }
                let cells: HashMap<Column, String> = columns
                    .iter()
                    .zip(record.iter())
                    .filter_map(|(c, v)| c.map(|c| (c, v.to_string())))
                    .collect();
                rows.row(line, &cells);
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| line_of(p.byte()));
                rows.report.rows += 1;
                rows.problem(line, e.to_string(), true);
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
    }
    Ok(rows.finish())
}

fn line_at(text: &str, offset: usize) -> u64 {
    1 + text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
}

/// Byte ranges of the elements of the JSON array starting at `text[open]` (`[`), so
/// each object's line can be reported and a broken one skipped alone.
fn array_elements(text: &str, open: usize) -> Result<Vec<(usize, usize)>, (usize, String)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    let mut start = None;
    for (i, &c) in b.iter().enumerate().skip(open) {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => {
                in_str = true;
                start.get_or_insert(i);
            }
            b'[' | b'{' => {
                if depth == 1 {
                    start.get_or_insert(i);
                }
                depth += 1;
            }
            b']' | b'}' => {
                if depth == 0 {
                    return Err((i, "unbalanced bracket".into()));
                }
                depth -= 1;
                if depth == 0 {
                    if let Some(s) = start.take() {
                        out.push((s, i));
                    }
                    return Ok(out);
                }
            }
            b',' if depth == 1 => {
                if let Some(s) = start.take() {
                    out.push((s, i));
                }
            }
            c if depth == 1 && !c.is_ascii_whitespace() => {
                start.get_or_insert(i);
            }
            _ => {}
        }
    }
    Err((text.len(), "the array does not end".into()))
}

/// Reads a JSON list: an array of objects, or one object a line (JSON Lines). Keys are
/// headers as for CSV; numbers are read as text (a licence number written as a JSON
/// number keeps its digits).
///
/// ```
/// use xuncha_registry::read_json;
/// let json = r#"[
///   {"name": "示例人力资源有限公司", "licence_no": 990100120105, "valid_until": "长期"},
///   {"name": "样例人才服务有限公司"}
/// ]"#;
/// let (entries, report) = read_json(json, "list.json").unwrap();
/// assert_eq!(entries[0].licence_no(), "990100120105");
/// assert_eq!(report.problems[0].line, 3);
/// ```
pub fn read_json(text: &str, file: &str) -> Result<(Vec<Entry>, ImportReport), RegistryError> {
    let mut rows = Rows::new(file);
    let body = text.trim_start_matches('\u{FEFF}');
    let trimmed = body.trim_start();
    let items: Vec<(u64, &str)> = if trimmed.starts_with('[') {
        let open = text.len() - trimmed.len();
        array_elements(text, open)
            .map_err(|(at, message)| RegistryError::Syntax {
                path: PathBuf::from(file),
                line: line_at(text, at.min(text.len())),
                message,
            })?
            .into_iter()
            .scan((0, 1), |(at, line), (s, e)| {
                // Elements come in order: count newlines from the previous one only.
                *line += text.as_bytes()[*at..s]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count() as u64;
                *at = s;
                Some((*line, text[s..e].trim()))
            })
            .collect()
    } else {
        body.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i as u64 + 1, l))
            .collect()
    };
    for (line, raw) in items {
        let value: Value = match serde_json::from_str(raw) {
            Ok(v) => v,
            Err(e) => {
                rows.report.rows += 1;
                rows.problem(line, format!("not JSON: {e}"), true);
                continue;
            }
        };
        let Value::Object(obj) = value else {
            rows.report.rows += 1;
            rows.problem(line, "not a JSON object".into(), true);
            continue;
        };
        let mut cells = HashMap::new();
        for (k, v) in obj {
            let Some(c) = Column::from_header(&k) else {
                continue;
            };
            let s = match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Null => String::new(),
                Value::Bool(b) => b.to_string(),
                other => other.to_string(),
            };
            cells.insert(c, s);
        }
        if !cells.contains_key(&Column::Name) && !cells.contains_key(&Column::LicenceNo) {
            rows.report.rows += 1;
            rows.problem(line, "no name or licence_no key".into(), true);
            continue;
        }
        rows.row(line, &cells);
    }
    Ok(rows.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_aliases() {
        assert_eq!(Column::from_header("\u{FEFF}机构名称"), Some(Column::Name));
        assert_eq!(Column::from_header(" Licence_No "), Some(Column::LicenceNo));
        assert_eq!(Column::from_header("许可范围"), Some(Column::Scope));
        assert_eq!(Column::from_header("经营范围"), Some(Column::Scope));
        assert_eq!(Column::from_header("*有效期至"), Some(Column::ValidUntil));
        assert_eq!(Column::from_header("联系电话"), None);
    }

    #[test]
    fn array_elements_survive_brackets_in_strings() {
        let t = r#"[{"a":"]}"}, {"b":"x,\"y"} ,3]"#;
        let els = array_elements(t, 0).unwrap();
        let got: Vec<&str> = els.iter().map(|(s, e)| t[*s..*e].trim()).collect();
        assert_eq!(got, [r#"{"a":"]}"}"#, r#"{"b":"x,\"y"}"#, "3"]);
    }

    #[test]
    fn missing_required_column_is_an_error() {
        let e = read_csv("名称,地区\n示例,西安\n", "x.csv", b',').unwrap_err();
        assert!(e.to_string().contains("licence_no"), "{e}");
    }
}
