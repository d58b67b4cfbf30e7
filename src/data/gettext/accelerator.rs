//! Keyboard accelerators in UI catalogs: "_Open" (GTK), "&File" (Qt, KDE), "~Close" (LibreOffice), and in CJK
//! targets the key in brackets after the word, "打开(_O)", "关闭(~C)". A translator would not type them, so a
//! translation model should not learn them. A catalog may declare its marker in its header
//! (`X-Accelerator-Marker: ~`, KDE's and LibreOffice's convention), which is always stripped; any other marker
//! only when both sides of a pair carry an accelerator of it, which keeps "snake_case", "A & B" and "~5 minutes"
//! as they are.

/// The markers tried when a catalog declares none.
pub const COMMON_MARKERS: [char; 3] = ['_', '&', '~'];

/// The marker a catalog header declares (`X-Accelerator-Marker: _`), if any.
pub fn declared_marker(header: &str) -> Option<char> {
    header.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        if !key.trim().eq_ignore_ascii_case("X-Accelerator-Marker") {
            return None;
        }
        let mut chars = value.trim().chars();
        chars.next().filter(|_| chars.next().is_none())
    })
}

/// The byte ranges where `marker` marks an accelerator key in `text`: the bracketed CJK form (`(_O)`, full-width
/// brackets too), or the marker alone before the key. An underscore inside a word (`file_name`) counts only with
/// `inside_words` (GTK's "Abri_r"; see [`strip_pair`]).
fn accelerators(text: &str, marker: char, inside_words: bool) -> Vec<std::ops::Range<usize>> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut found = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        let (at, c) = chars[k];
        let next = chars.get(k + 1).map(|&(_, c)| c);
        if c != marker {
            k += 1;
            continue;
        }
        if next == Some(marker) {
            k += 2; // a doubled marker is the literal character
            continue;
        }
        if !next.is_some_and(|c| c.is_alphanumeric()) {
            k += 1;
            continue;
        }
        let previous = k.checked_sub(1).map(|p| chars[p].1);
        let after_key = chars.get(k + 2).map(|&(_, c)| c);
        let bracketed = matches!(previous, Some('(' | '（')) && matches!(after_key, Some(')' | '）'));
        let inside_word = marker == '_' && !inside_words && previous.is_some_and(|p| p.is_alphanumeric());
        // "&amp;", "&#38;": an entity, not an accelerator.
        let entity = marker == '&' && is_entity(&text[at..]);
        if bracketed {
            let start = chars[k - 1].0;
            let end = chars.get(k + 3).map_or(text.len(), |&(i, _)| i);
            found.push(start..end);
            k += 3;
        } else if !inside_word && !entity {
            found.push(at..at + marker.len_utf8());
            k += 1;
        } else {
            k += 1;
        }
    }
    found
}

/// Whether an underscore inside a word of `text` is an accelerator: it has exactly one underscore, and the word
/// holding it is not copied verbatim into `other` (an identifier such as `file_name` stays the same in both).
fn underscore_inside_word(text: &str, other: &str) -> bool {
    if text.matches('_').count() != 1 {
        return false;
    }
    let word = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .find(|w| w.contains('_'))
        .unwrap_or_default();
    !other.contains(word)
}

fn is_entity(text: &str) -> bool {
    let body: String = text[1..].chars().take_while(|c| *c != ';').collect();
    text[1..].len() > body.len()
        && !body.is_empty()
        && body.len() <= 8
        && (body.chars().all(|c| c.is_ascii_alphabetic())
            || body
                .strip_prefix('#')
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit())))
}

/// `text` without its accelerators of `marker`: the marker before the key removed, a bracketed CJK accelerator
/// removed with its brackets (and a space before it), a doubled marker made single. Underscores inside words
/// stay (see [`strip_pair`] for when they go).
pub fn strip_accelerators(text: &str, marker: char) -> String {
    strip_marked(text, marker, false)
}

fn strip_marked(text: &str, marker: char, inside_words: bool) -> String {
    let cuts = accelerators(text, marker, inside_words);
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for cut in cuts {
        let kept = &text[from..cut.start];
        let bracketed = cut.len() > marker.len_utf8();
        out.push_str(if bracketed { kept.trim_end_matches(' ') } else { kept });
        from = cut.end;
    }
    out.push_str(&text[from..]);
    let doubled: String = [marker, marker].iter().collect();
    out.replace(&doubled, &marker.to_string())
}

/// A source/target pair without accelerators: of the declared marker, and of each common marker that both sides
/// use as one.
/// An underscore inside a word counts on a side when [`underscore_inside_word`] says so ("Abri_r" against
/// "_Open"), never when the same word is on both sides (`file_name`).
pub fn strip_pair(source: &str, target: &str, declared: Option<char>) -> (String, String) {
    let (mut source, mut target) = (source.to_string(), target.to_string());
    let inside = (
        underscore_inside_word(&source, &target),
        underscore_inside_word(&target, &source),
    );
    // The declared marker always; the others where both sides use one (LibreOffice declares `~` for its old
    // strings, but its dialogs use GTK's `_`).
    let both_use =
        |m: char| !accelerators(&source, m, inside.0).is_empty() && !accelerators(&target, m, inside.1).is_empty();
    let markers: Vec<char> = COMMON_MARKERS
        .into_iter()
        .filter(|&m| Some(m) == declared || both_use(m))
        .chain(declared.filter(|m| !COMMON_MARKERS.contains(m)))
        .collect();
    for marker in markers {
        source = strip_marked(&source, marker, inside.0);
        target = strip_marked(&target, marker, inside.1);
    }
    (source, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_convention_is_stripped() {
        assert_eq!(strip_accelerators("_Open", '_'), "Open");
        assert_eq!(strip_accelerators("Save _As…", '_'), "Save As…");
        assert_eq!(strip_accelerators("Ch~aracters", '~'), "Characters");
        assert_eq!(strip_accelerators("Ab&rir...", '&'), "Abrir...");
        assert_eq!(strip_accelerators("打开(_O)", '_'), "打开");
        assert_eq!(strip_accelerators("删除 $1 的所有批注(~A)", '~'), "删除 $1 的所有批注");
        assert_eq!(strip_accelerators("高级打开(&A)...", '&'), "高级打开...");
        assert_eq!(strip_accelerators("保存 (_S)", '_'), "保存");
        assert_eq!(strip_accelerators("关闭（~C）", '~'), "关闭");
    }

    #[test]
    fn literals_identifiers_and_entities_stay() {
        assert_eq!(strip_accelerators("Tom && Jerry", '&'), "Tom & Jerry");
        assert_eq!(strip_accelerators("file_name", '_'), "file_name");
        assert_eq!(strip_accelerators("A &amp; B", '&'), "A &amp; B");
        assert_eq!(strip_accelerators("~%s remaining", '~'), "~%s remaining");
    }

    #[test]
    fn undeclared_markers_need_both_sides() {
        // VLC's catalogs declare nothing and use '&'.
        assert_eq!(
            strip_pair("&Advanced Open...", "高级打开(&A)...", None),
            ("Advanced Open...".into(), "高级打开...".into())
        );
        // '~' means "about" here, and only one side has an '&'.
        assert_eq!(
            strip_pair("~5 minutes & more", "cerca de 5 minutos e mais", None),
            ("~5 minutes & more".into(), "cerca de 5 minutos e mais".into())
        );
        // GTK: the mnemonic may sit inside a translated word; an identifier copied to both sides stays.
        assert_eq!(strip_pair("_Open", "Abri_r", None), ("Open".into(), "Abrir".into()));
        assert_eq!(
            strip_pair("Remove _file_name", "Remover _file_name", None),
            ("Remove file_name".into(), "Remover file_name".into())
        );
        // A declared marker is stripped even where one side lacks it, and another used by both sides too.
        assert_eq!(
            strip_pair("~Delete", "Excluir", Some('~')),
            ("Delete".into(), "Excluir".into())
        );
        assert_eq!(
            strip_pair("_Close", "Fe_char", Some('~')),
            ("Close".into(), "Fechar".into())
        );
    }

    #[test]
    fn the_header_field_is_read() {
        let header = "Content-Type: text/plain; charset=UTF-8\nX-Accelerator-Marker: ~\nX-Generator: LibreOffice\n";
        assert_eq!(declared_marker(header), Some('~'));
        assert_eq!(declared_marker("Content-Type: text/plain\n"), None);
    }
}
