//! The layers stay boundaries: the domain knows no framework, no database and no other layer;
//! services and queries never reach up into HTTP.

use std::path::Path;

/// Every non-comment line of every Rust file under `dir` that mentions one of `forbidden`.
fn offending_lines(dir: &str, forbidden: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut offending = Vec::new();
    let mut pending = vec![root];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if let Some(name) = forbidden.iter().find(|name| code.contains(*name)) {
                offending.push(format!("{}:{}: uses {name}", path.display(), number + 1));
            }
        }
    }
    offending
}

#[test]
fn the_domain_depends_on_no_framework_database_or_other_layer() {
    let forbidden = [
        "actix",
        "diesel",
        "utoipa",
        "crate::db",
        "crate::services",
        "crate::routes",
        "crate::startup",
        "crate::auth",
        "crate::config",
    ];

    let offending = offending_lines("src/domain", &forbidden);

    assert!(offending.is_empty(), "{offending:#?}");
}

#[test]
fn services_and_queries_never_reach_up_into_http() {
    let mut offending = offending_lines(
        "src/services",
        &["crate::routes", "crate::startup", "actix_web::"],
    );
    offending.extend(offending_lines(
        "src/db",
        &["crate::routes", "crate::services"],
    ));

    assert!(offending.is_empty(), "{offending:#?}");
}
