//! gettext import on catalogs the tests write: plural forms, contexts, fuzzy entries, escapes, non-UTF-8
//! charsets, both byte orders of `.mo`, malformed files; and `corpus import` end to end.

mod common;

use std::process::Command;

use bitdistill::data::gettext::{Message, parse_po, read_mo, read_po};
use common::temp_dir;

const PO: &str = r#"# Translation of demo.
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\n"

#: src/main.c:10
msgid "Open file"
msgstr "Abrir arquivo"

#, c-format
msgid "%d file"
msgid_plural "%d files"
msgstr[0] "%d arquivo"
msgstr[1] "%d arquivos"

msgctxt "menu"
msgid "Open"
msgstr "Abrir"

#, fuzzy, c-format
msgid "Close %s"
msgstr "Fechar %s"

msgid ""
"Line one\n"
"said \"hi\"\tthen left\\"
msgstr "Linha um\nele disse \"oi\"\tdepois saiu\\"

#~ msgid "Obsolete"
#~ msgstr "Obsoleto"
"#;

#[test]
fn po_entries_keep_plurals_contexts_fuzzy_flags_and_escapes() {
    let messages = parse_po(PO, std::path::Path::new("demo.po")).unwrap();
    assert_eq!(messages.len(), 6, "{messages:#?}");
    assert_eq!(
        messages[1].pairs(),
        vec![("Open file".to_string(), "Abrir arquivo".to_string())]
    );
    assert_eq!(
        messages[2].pairs(),
        vec![
            ("%d file".to_string(), "%d arquivo".to_string()),
            ("%d files".to_string(), "%d arquivos".to_string())
        ]
    );
    assert_eq!(messages[3].context.as_deref(), Some("menu"));
    assert!(messages[4].fuzzy && !messages[3].fuzzy && !messages[2].fuzzy);
    assert_eq!(messages[5].source, "Line one\nsaid \"hi\"\tthen left\\");
    assert_eq!(
        messages[5].translations,
        vec!["Linha um\nele disse \"oi\"\tdepois saiu\\".to_string()]
    );
}

#[test]
fn po_in_a_latin1_charset_is_decoded() {
    let dir = temp_dir("po-latin1");
    let text =
        "msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=ISO-8859-1\\n\"\n\nmsgid \"Action\"\nmsgstr \"Ação\"\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the file must really not be UTF-8"
    );
    let path = dir.join("latin1.po");
    std::fs::write(&path, &bytes).unwrap();
    let messages = read_po(&path).unwrap();
    assert_eq!(messages[1].translations, vec!["Ação".to_string()]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn malformed_po_files_name_the_line() {
    let path = std::path::Path::new("bad.po");
    let error = |text: &str| parse_po(text, path).unwrap_err().to_string();
    assert_eq!(
        error("msgid \"a\"\nmsgstr \"b\\q\"\n"),
        "bad.po:2: unknown escape `\\q`"
    );
    assert_eq!(
        error("msgid \"a\"\nmsgstr b\n"),
        "bad.po:2: expected a quoted string, found `b`"
    );
    assert_eq!(
        error("\"stray\"\n"),
        "bad.po:1: a string continuation outside any field"
    );
    assert_eq!(
        error("msgid \"a\"\nmsgfoo \"b\"\n"),
        "bad.po:2: unknown keyword `msgfoo`"
    );
    assert_eq!(
        error("msgid \"a\"\n\nmsgid \"b\"\nmsgstr \"c\"\n"),
        "bad.po:3: msgid without msgstr"
    );
}

/// A `.mo` file written by the test from the format's documentation (not by the reader's code).
fn mo_bytes(entries: &[(&[u8], &[u8])], big_endian: bool) -> Vec<u8> {
    let word = |v: u32| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    let n = entries.len() as u32;
    let (originals, translations) = (28u32, 28 + 8 * n);
    let mut strings_at = 28 + 16 * n;
    let mut header: Vec<u8> = Vec::new();
    for value in [0x9504_12de, 0, n, originals, translations, 0, 0] {
        header.extend(word(value));
    }
    let mut tables = (Vec::new(), Vec::new());
    let mut data = Vec::new();
    for (column, pick) in [(0usize, 0usize), (1, 1)] {
        for entry in entries {
            let s = if pick == 0 { entry.0 } else { entry.1 };
            let table = if column == 0 { &mut tables.0 } else { &mut tables.1 };
            table.extend(word(s.len() as u32));
            table.extend(word(strings_at));
            data.extend(s);
            data.push(0);
            strings_at += s.len() as u32 + 1;
        }
    }
    [header, tables.0, tables.1, data].concat()
}

#[test]
fn mo_files_of_both_byte_orders_with_contexts_plurals_and_a_charset() {
    let dir = temp_dir("mo");
    let entries: [(&[u8], &[u8]); 4] = [
        (b"", b"Content-Type: text/plain; charset=ISO-8859-1\n"),
        (b"menu\x04Open", b"Abrir"),
        (b"%d file\0%d files", b"%d arquivo\0%d arquivos"),
        (b"Action", b"A\xe7\xe3o"),
    ];
    for big_endian in [false, true] {
        let path = dir.join(format!("demo-{big_endian}.mo"));
        std::fs::write(&path, mo_bytes(&entries, big_endian)).unwrap();
        let messages = read_mo(&path).unwrap();
        assert_eq!(messages.len(), 4);
        assert_eq!(
            messages[1],
            Message {
                context: Some("menu".into()),
                source: "Open".into(),
                source_plural: None,
                translations: vec!["Abrir".into()],
                fuzzy: false
            }
        );
        assert_eq!(messages[2].pairs().len(), 2);
        assert_eq!(messages[2].source_plural.as_deref(), Some("%d files"));
        assert_eq!(messages[3].translations, vec!["Ação".to_string()]);
    }
    let truncated = dir.join("truncated.mo");
    std::fs::write(&truncated, &mo_bytes(&entries, false)[..40]).unwrap();
    let message = read_mo(&truncated).unwrap_err().to_string();
    assert!(message.contains("truncated.mo: not a valid .mo file"), "{message}");
    let wrong = dir.join("wrong.mo");
    std::fs::write(&wrong, b"this is not a catalog at all").unwrap();
    assert!(
        read_mo(&wrong)
            .unwrap_err()
            .to_string()
            .ends_with("wrong.mo: not a valid .mo file: wrong magic number")
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn corpus_import_cleans_and_splits_without_sharing_a_source() {
    let dir = temp_dir("corpus-import");
    let mut po = String::from("msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\n\n");
    for i in 0..300 {
        po.push_str(&format!(
            "msgid \"Message number {i}\"\nmsgstr \"Mensagem número {i}\"\n\n"
        ));
    }
    po.push_str("msgid \"Message number 1\"\nmsgstr \"Duplicada\"\n\nmsgid \"Same\"\nmsgstr \"Same\"\n\n");
    po.push_str("#, fuzzy\nmsgid \"Guess\"\nmsgstr \"Palpite\"\n");
    std::fs::write(dir.join("demo.po"), po).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bitdistill"))
        .args([
            "corpus",
            "import",
            dir.join("demo.po").to_str().unwrap(),
            "--target-lang",
            "pt",
        ])
        .args([
            "--out",
            dir.join("out").to_str().unwrap(),
            "--dev",
            "0.1",
            "--test",
            "0.1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["pairs_read"], 302);
    assert_eq!(report["filter"]["kept"], 300);
    assert_eq!(
        (
            report["filter"]["duplicate"].as_u64(),
            report["filter"]["identical"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let mut sources = std::collections::HashSet::new();
    let mut total = 0;
    for split in ["train", "dev", "test"] {
        let text = std::fs::read_to_string(dir.join(format!("out/{split}.jsonl"))).unwrap();
        for line in text.lines() {
            let json: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(
                sources.insert(json["source"].as_str().unwrap().to_string()),
                "a source is in two splits"
            );
            assert_eq!(json["target_lang"], "pt");
            total += 1;
        }
        assert!(!text.is_empty(), "{split} is empty");
    }
    assert_eq!(total, 300);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Every (source, target) of OUT/{train,dev,test}.jsonl.
fn imported_pairs(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for split in ["train", "dev", "test"] {
        for line in std::fs::read_to_string(dir.join(format!("{split}.jsonl")))
            .unwrap()
            .lines()
        {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            pairs.push((
                v["source"].as_str().unwrap().to_string(),
                v["target"].as_str().unwrap().to_string(),
            ));
        }
    }
    pairs.sort();
    pairs
}

#[test]
fn the_catalog_recipe_strips_accelerators_and_keeps_gnome_apps_out() {
    let dir = temp_dir("catalog-recipe");
    let root = dir.join("root");
    let write = |path: &str, entries: &[(&[u8], &[u8])]| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, mo_bytes(entries, false)).unwrap();
    };
    let libreoffice: &[u8] = b"Content-Type: text/plain; charset=UTF-8\nX-Accelerator-Marker: ~\n";
    let plain: &[u8] = b"Content-Type: text/plain; charset=UTF-8\n";
    // LibreOffice declares `~`; VLC declares nothing and uses `&`; gedit and gnome-calculator must not be read.
    let lo = "usr/lib/libreoffice/program/resource";
    write(
        &format!("{lo}/pt_BR/LC_MESSAGES/sw.mo"),
        &[
            (b"", libreoffice),
            (b"STR_DELETE\x04~Delete the row", "E~xcluir a linha".as_bytes()),
        ],
    );
    write(
        &format!("{lo}/zh_CN/LC_MESSAGES/sw.mo"),
        &[
            (b"", libreoffice),
            (b"STR_DELETE\x04~Delete the row", "删除行(~D)".as_bytes()),
        ],
    );
    write(
        "usr/share/locale/pt_BR/LC_MESSAGES/vlc.mo",
        &[(b"", plain), (b"&Advanced Open...", b"Ab&rir avan\xc3\xa7ado...")],
    );
    write(
        "usr/share/locale/zh_CN/LC_MESSAGES/vlc.mo",
        &[(b"", plain), (b"&Advanced Open...", "高级打开(&A)...".as_bytes())],
    );
    for locale in ["pt_BR", "zh_CN"] {
        write(
            &format!("usr/share/locale/{locale}/LC_MESSAGES/gedit.mo"),
            &[(b"", plain), (b"Save the document", b"GNOME")],
        );
        write(
            &format!("usr/share/locale/{locale}/LC_MESSAGES/gnome-calculator.mo"),
            &[(b"", plain), (b"Clear the display", b"GNOME")],
        );
    }
    let out = dir.join("out");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/fetch-catalogs.sh");
    let status = std::process::Command::new("bash")
        .arg(&script)
        .args(["--from", root.to_str().unwrap(), out.to_str().unwrap()])
        .env("BITDISTILL", env!("CARGO_BIN_EXE_bitdistill"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let pairs = |lang: &str| imported_pairs(&out.join(lang));
    let own = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        pairs("pt"),
        [
            own("Advanced Open...", "Abrir avançado..."),
            own("Delete the row", "Excluir a linha")
        ]
    );
    assert_eq!(
        pairs("zh"),
        [own("Advanced Open...", "高级打开..."), own("Delete the row", "删除行")]
    );
    let catalogs = std::fs::read_to_string(out.join("pt/catalogs.txt")).unwrap();
    assert_eq!(
        catalogs,
        format!("{lo}/pt_BR/LC_MESSAGES/sw.mo\nusr/share/locale/pt_BR/LC_MESSAGES/vlc.mo\n")
    );
    std::fs::remove_dir_all(dir).unwrap();
}
