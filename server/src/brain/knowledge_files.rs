//! Knowledge files admins import in Settings: Markdown (one `## ` heading per entry)
//! and CSV (`question,answer`). A file is read whole before anything is stored: one
//! bad entry refuses the file, naming where it is, so nothing is half-imported.

use app::{
    domain::knowledge::{EntryDraft, EntryKind, ImportFormat},
    AppError,
};

/// Most entries one file may hold.
pub const MAX_IMPORT_ENTRIES: usize = 1000;

/// The entries of a file in `format`, each checked, in the file's order.
pub fn read(format: ImportFormat, text: &str) -> Result<Vec<EntryDraft>, AppError> {
    let drafts = match format {
        ImportFormat::Markdown => markdown(text)?,
        ImportFormat::Csv => csv_rows(text)?,
    };
    if drafts.is_empty() {
        return Err(AppError::InvalidInput(match format {
            ImportFormat::Markdown => "text: the file has no `## ` heading, so no entry".into(),
            ImportFormat::Csv => "text: the file has no question,answer row".into(),
        }));
    }
    if drafts.len() > MAX_IMPORT_ENTRIES {
        return Err(AppError::TooLarge(format!(
            "the file holds {} entries; import at most {MAX_IMPORT_ENTRIES} at a time",
            drafts.len()
        )));
    }
    Ok(drafts)
}

/// The file's problem, prefixed with the `place` it is at ("line 7: ...").
fn at(place: String, err: AppError) -> AppError {
    match err {
        AppError::InvalidInput(problem) => AppError::InvalidInput(format!("{place}: {problem}")),
        other => other,
    }
}

/// One entry per `## ` heading; what is above the first one (a `# ` title, an
/// introduction) is not an entry. Headings of other levels inside an entry are text.
fn markdown(text: &str) -> Result<Vec<EntryDraft>, AppError> {
    let mut drafts = Vec::new();
    let mut current: Option<(usize, &str, Vec<&str>)> = None;
    let mut finish = |entry: Option<(usize, &str, Vec<&str>)>| -> Result<(), AppError> {
        let Some((line, heading, body)) = entry else { return Ok(()) };
        let kind = if heading.trim_end().ends_with('?') { EntryKind::Qa } else { EntryKind::Article };
        let draft = EntryDraft { id: None, kind, title: heading.to_owned(), body: body.join("\n") };
        drafts.push(draft.checked().map_err(|err| at(format!("line {line}"), err))?);
        Ok(())
    };
    for (index, line) in text.lines().enumerate() {
        if let Some(heading) = line.strip_prefix("## ") {
            finish(current.take())?;
            current = Some((index + 1, heading.trim(), Vec::new()));
        } else if let Some((_, _, body)) = current.as_mut() {
            body.push(line);
        }
    }
    finish(current)?;
    Ok(drafts)
}

/// `question,answer` rows, quoted as CSV quotes (an answer may hold commas and line
/// breaks inside quotes). A first row of exactly `question,answer` is a header.
fn csv_rows(text: &str) -> Result<Vec<EntryDraft>, AppError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut drafts = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|err| {
            let line = err.position().map_or(index + 1, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
            AppError::InvalidInput(format!("line {line}: not valid CSV ({err})"))
        })?;
        let line = record.position().map_or(index + 1, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
        let fields: Vec<&str> = record.iter().collect();
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if index == 0 && fields.iter().map(|f| f.trim().to_lowercase()).eq(["question", "answer"]) {
            continue;
        }
        let [question, answer] = fields.as_slice() else {
            return Err(AppError::InvalidInput(format!(
                "line {line}: expected 2 fields (question,answer), found {}",
                fields.len()
            )));
        };
        let draft = EntryDraft { id: None, kind: EntryKind::Qa, title: (*question).into(), body: (*answer).into() };
        drafts.push(draft.checked().map_err(|err| at(format!("line {line}"), err))?);
    }
    Ok(drafts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn titles(drafts: &[EntryDraft]) -> Vec<(&str, &str, EntryKind)> {
        drafts.iter().map(|d| (d.title.as_str(), d.body.as_str(), d.kind)).collect()
    }

    #[test]
    fn markdown_makes_one_entry_per_second_level_heading() {
        let file = "# Acme help\nIntro that is not an entry.\n\n## How do refunds work?\nWithin 30 days.\n\n\
                    ### Details\nAsk us.\n## Shipping\nWe ship worldwide.\n";
        let drafts = read(ImportFormat::Markdown, file).unwrap();
        assert_eq!(
            titles(&drafts),
            [
                ("How do refunds work?", "Within 30 days.\n\n### Details\nAsk us.", EntryKind::Qa),
                ("Shipping", "We ship worldwide.", EntryKind::Article),
            ]
        );
    }

    #[test]
    fn a_bad_markdown_entry_refuses_the_file_and_says_where() {
        let err = read(ImportFormat::Markdown, "## One\ntext\n\n## Empty\n\n## Three\nx").unwrap_err();
        assert_eq!(err.to_string(), "line 4: body: the text is empty");
        let none = read(ImportFormat::Markdown, "# Only a title\nand text").unwrap_err();
        assert!(none.to_string().contains("no `## ` heading"), "{none}");
    }

    #[test]
    fn csv_reads_quoted_rows_and_skips_the_header() {
        let file = "question,answer\n\"Do you ship, abroad?\",\"Yes, to 40 countries.\nAsk for rates.\"\n\nWhat is Acme?,A shop\n";
        let drafts = read(ImportFormat::Csv, file).unwrap();
        assert_eq!(
            titles(&drafts),
            [
                ("Do you ship, abroad?", "Yes, to 40 countries.\nAsk for rates.", EntryKind::Qa),
                ("What is Acme?", "A shop", EntryKind::Qa),
            ]
        );
    }

    #[test]
    fn csv_rows_of_the_wrong_shape_are_refused_with_their_line() {
        let err = read(ImportFormat::Csv, "q1,a1\nonly one field\n").unwrap_err();
        assert_eq!(err.to_string(), "line 2: expected 2 fields (question,answer), found 1");
        let err = read(ImportFormat::Csv, "q1,\n").unwrap_err();
        assert_eq!(err.to_string(), "line 1: body: the answer is empty");
        assert!(read(ImportFormat::Csv, "question,answer\n").is_err());
    }

    #[test]
    fn files_of_too_many_entries_are_refused() {
        let file: String = (0..=MAX_IMPORT_ENTRIES).map(|i| format!("q{i},a{i}\n")).collect();
        assert!(matches!(read(ImportFormat::Csv, &file), Err(AppError::TooLarge(_))));
    }
}

/// Any file is entries or one refusal, never a panic; what a CSV writer or a
/// Markdown author writes reads back as written.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// A one-line text with something in it.
    fn title() -> impl Strategy<Value = String> {
        "[A-Za-z0-9 ,.'\"?!()-]{0,20}[A-Za-z0-9][A-Za-z0-9 ,.'\"?!()-]{0,20}"
    }

    /// Text of several lines, none a heading.
    fn body() -> impl Strategy<Value = String> {
        "[A-Za-z0-9 ,.'\"?!()-]{0,30}[A-Za-z0-9][A-Za-z0-9 ,.'\"?!()\n-]{0,60}"
    }

    fn markdown_line() -> impl Strategy<Value = String> {
        prop_oneof![
            title().prop_map(|t| format!("## {t}")),
            Just("## ".to_owned()),
            Just("# Title".to_owned()),
            "[^\n]{0,40}",
            Just(String::new()),
        ]
    }

    proptest! {
        #[test]
        fn any_file_is_entries_or_a_refusal(text in any::<String>(), csv in any::<bool>()) {
            let format = if csv { ImportFormat::Csv } else { ImportFormat::Markdown };
            match read(format, &text) {
                Ok(drafts) => {
                    for draft in drafts {
                        prop_assert_eq!(draft.clone().checked().ok(), Some(draft));
                    }
                }
                Err(err) => prop_assert!(!err.to_string().is_empty()),
            }
        }

        #[test]
        fn markdown_shaped_files_are_entries_or_a_refusal_that_says_where(
            lines in prop::collection::vec(markdown_line(), 0..40),
        ) {
            match read(ImportFormat::Markdown, &lines.join("\n")) {
                Ok(drafts) => prop_assert!(!drafts.is_empty()),
                Err(AppError::InvalidInput(why)) => {
                    prop_assert!(why.starts_with("line ") || why.starts_with("text: "), "{}", why)
                }
                Err(other) => prop_assert!(false, "{:?}", other),
            }
        }

        #[test]
        fn csv_rows_read_back_as_written(rows in prop::collection::vec((title(), body()), 1..20)) {
            prop_assume!(!rows[0].0.trim().eq_ignore_ascii_case("question"));
            let mut writer = csv::Writer::from_writer(Vec::new());
            for (question, answer) in &rows {
                writer.write_record([question, answer]).map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            let bytes = writer.into_inner().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let text = String::from_utf8(bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let drafts = read(ImportFormat::Csv, &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let read_back: Vec<(&str, &str)> = drafts.iter().map(|d| (d.title.as_str(), d.body.as_str())).collect();
            let written: Vec<(&str, &str)> = rows.iter().map(|(q, a)| (q.trim(), a.trim())).collect();
            prop_assert_eq!(read_back, written);
        }

        #[test]
        fn markdown_entries_read_back_as_written(entries in prop::collection::vec((title(), body()), 1..20)) {
            let text: String = entries.iter().map(|(t, b)| format!("## {t}\n{b}\n\n")).collect();
            let drafts = read(ImportFormat::Markdown, &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(drafts.len(), entries.len());
            for (draft, (title, body)) in drafts.iter().zip(&entries) {
                prop_assert_eq!(draft.title.as_str(), title.trim());
                prop_assert_eq!(draft.body.as_str(), body.trim());
                let qa = title.trim_end().ends_with('?');
                prop_assert_eq!(draft.kind, if qa { EntryKind::Qa } else { EntryKind::Article });
            }
        }
    }
}
