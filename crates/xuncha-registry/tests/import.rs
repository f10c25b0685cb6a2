//! Reading lists, the SQLite file, and the sample list in config/registry.

use std::path::{Path, PathBuf};

use xuncha_registry::synthetic::{agencies, credit_code, Rng};
use xuncha_registry::{
    read_file, CreditCode, Date, MatchedBy, Registry, RegistryError, RegistryStore,
};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/registry/sample.csv")
}

#[test]
fn csv_with_chinese_headers_reports_bad_rows_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("名录.csv");
    let code = credit_code(&mut Rng::new(1));
    let last = code.as_str().chars().last().unwrap();
    let bad_code = format!(
        "{}{}",
        &code.as_str()[..17],
        if last == '0' { '1' } else { '0' }
    );
    let csv = format!(
        "\u{FEFF}序号,机构名称,统一社会信用代码,许可证编号,许可范围,发证机关,有效期至,所在地区\n\
         1,示例人力资源有限公司,{code},990100120105,职业中介活动（开展网络招聘服务）,西安市人社局,2028-12-31,陕西省西安市\n\
         2,,{code},990100120106,职业中介活动,西安市人社局,2028-12-31,陕西省西安市\n\
         3,样例人才服务有限公司,,,职业中介活动,西安市人社局,2028-12-31,陕西省西安市\n\
         4,样例职业介绍有限公司,,990100120107,职业中介活动,西安市人社局,2028-02-30,陕西省西安市\n\
         5,样例猎头有限公司,,990100120108\n\
         \n\
         6,\"示例人才（西安）有限公司\",{bad_code},职介证字[2023]第01130052号,网络招聘服务,西安市人社局,长期有效,陕西省西安市\n"
    );
    std::fs::write(&path, csv).unwrap();
    let (entries, report) = read_file(&path).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!((report.rows, report.loaded, report.skipped), (6, 2, 4));
    let file = path.display().to_string();
    let lines: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(lines.len(), 5, "{lines:#?}");
    assert_eq!(
        lines[0],
        format!("{file}:3: skipped: the agency name is empty")
    );
    assert_eq!(
        lines[1],
        format!("{file}:4: skipped: the licence number is empty")
    );
    assert!(
        lines[2].starts_with(&format!("{file}:5: skipped: valid_until: not a date")),
        "{}",
        lines[2]
    );
    assert_eq!(
        lines[3],
        format!("{file}:6: skipped: 4 fields, the header has 8")
    );
    assert!(
        lines[4].starts_with(&format!("{file}:8: warning: credit code")),
        "{}",
        lines[4]
    );
    let e = &entries[1];
    assert_eq!(e.name(), "示例人才（西安）有限公司");
    assert_eq!(e.valid_until(), None);
    assert_eq!(e.origin().unwrap().line, 8);
    assert_eq!(entries[0].valid_until(), Date::new(2028, 12, 31));
    assert_eq!(entries[0].credit_code(), Some(code.as_str()));
    assert_eq!(entries[0].region(), "陕西省西安市");
}

#[test]
fn json_arrays_and_lines() {
    let dir = tempfile::tempdir().unwrap();
    let array = dir.path().join("list.json");
    std::fs::write(
        &array,
        r#"[
  {"单位名称": "示例人力资源有限公司", "许可证编号": 990100120105, "有效期至": "2028/12/31", "phone": "029-1"},
  {"name": "样例人才服务有限公司", "licence_no": "350200RL1010", "valid_until": "later"},
  "not an object",
  {"name": "样例职业介绍有限公司", "licence_no": "职介证字[2023]第01130052号", "scope": null}
]"#,
    )
    .unwrap();
    let (entries, report) = read_file(&array).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].licence_no(), "990100120105");
    assert_eq!(entries[1].origin().unwrap().line, 5);
    let lines: Vec<u64> = report.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [3, 4]);

    let jsonl = dir.path().join("list.jsonl");
    std::fs::write(
        &jsonl,
        "{\"name\":\"示例人力资源有限公司\",\"licence_no\":\"990100120105\"}\n\n{broken\n",
    )
    .unwrap();
    let (entries, report) = read_file(&jsonl).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(report.problems[0].line, 3);
    assert!(report.problems[0].message.starts_with("not JSON"));
}

#[test]
fn unreadable_lists_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let gbk = dir.path().join("gbk.csv");
    // 机构名称 in GBK.
    std::fs::write(&gbk, b"\xbb\xfa\xb9\xb9\xc3\xfb\xb3\xc6,licence_no\n").unwrap();
    assert!(matches!(
        read_file(&gbk),
        Err(RegistryError::NotUtf8 { .. })
    ));
    let no_column = dir.path().join("x.csv");
    std::fs::write(&no_column, "机构名称,地址\n示例,西安\n").unwrap();
    let e = read_file(&no_column).unwrap_err();
    assert!(e.to_string().contains("no `licence_no` column"), "{e}");
    let broken = dir.path().join("x.json");
    std::fs::write(&broken, "[{\"name\": \"a\"},\n").unwrap();
    assert!(matches!(
        read_file(&broken),
        Err(RegistryError::Syntax { .. })
    ));
}

#[test]
fn the_store_round_trips_and_re_imports_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/registry.db");
    let entries = agencies(500, 11);
    let mut store = RegistryStore::open(&db).unwrap();
    assert_eq!(store.insert(&entries).unwrap(), 500);
    assert_eq!(store.insert(&entries).unwrap(), 500);
    assert_eq!(store.len().unwrap(), 500);
    drop(store);

    let store = RegistryStore::open(&db).unwrap();
    let loaded = store.load().unwrap();
    assert_eq!(loaded.len(), 500);
    assert_eq!(loaded.entries(), &entries[..]);

    // SQL lookups agree with the in-memory index.
    let memory = Registry::from_entries(entries.clone());
    for e in entries.iter().step_by(7) {
        let queries = [
            e.name().to_string(),
            format!("{}西安分公司", e.name()),
            e.name().replace("有限公司", "有限责任公司"),
            e.name().chars().skip(2).collect::<String>(),
            e.licence_no().to_string(),
            format!("人力资源服务许可证：{}", e.licence_no()),
            e.credit_code().unwrap().to_string(),
        ];
        for q in queries {
            let sql: Vec<(String, MatchedBy)> = store
                .lookup(&q)
                .unwrap()
                .into_iter()
                .map(|(e, by)| (e.name().to_string(), by))
                .collect();
            let mem: Vec<(String, MatchedBy)> = memory
                .lookup(&q)
                .into_iter()
                .map(|m| (m.entry.name().to_string(), m.matched_by))
                .collect();
            assert_eq!(sql, mem, "{q}");
        }
    }
    assert!(store.lookup("样例不存在有限公司").unwrap().is_empty());
}

#[test]
fn the_sample_list_loads_cleanly() {
    let (entries, report) = read_file(&sample()).unwrap();
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    assert!(entries.len() >= 24, "{}", entries.len());
    let day = Date::new(2026, 6, 1).unwrap();
    assert!(entries.iter().any(|e| e.is_expired_on(day)));
    assert!(entries.iter().any(|e| e.covers_online() == Some(false)));
    for e in &entries {
        assert!(
            e.name().starts_with("示例")
                || e.name().starts_with("样例")
                || e.name().contains("示例"),
            "{}",
            e.name()
        );
        let code = e.credit_code().expect("sample rows have codes");
        assert!(CreditCode::parse(code).is_ok(), "{code}");
        assert_eq!(&code[2..8], "000000", "{code}");
    }
    let dir = tempfile::tempdir().unwrap();
    let mut store = RegistryStore::open(dir.path().join("r.db")).unwrap();
    let report = store.import_file(&sample()).unwrap();
    assert_eq!(report.loaded, entries.len());
    assert_eq!(store.len().unwrap(), entries.len());
}
