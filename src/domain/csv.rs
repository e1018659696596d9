//! CSV cells for exports (RFC 4180), safe to open in a spreadsheet.

/// One CSV field: quoted when it holds a comma, quote or line break; a value a spreadsheet
/// would run as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a
/// leading `'` so it stays text.
pub fn cell(value: &str) -> String {
    let neutralised = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if neutralised.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutralised.replace('"', "\"\""))
    } else {
        neutralised
    }
}

/// One CSV record with its CRLF terminator.
pub fn row<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let mut line = values.into_iter().map(cell).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_pass_unquoted() {
        assert_eq!(cell("Jane Doe"), "Jane Doe");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn commas_quotes_and_newlines_are_quoted_and_quotes_doubled() {
        assert_eq!(cell("Doe, Jane"), "\"Doe, Jane\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("line1\nline2"), "\"line1\nline2\"");
        assert_eq!(cell("a\r\nb"), "\"a\r\nb\"");
    }

    #[test]
    fn formula_prefixes_are_neutralised() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+14155552671"), "'+14155552671");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tcmd"), "'\tcmd");
    }

    #[test]
    fn a_row_joins_cells_with_commas_and_ends_with_crlf() {
        assert_eq!(row(["a", "b,c", "=1"]), "a,\"b,c\",'=1\r\n");
    }
}
