//! Envoy's `safe_regex` is RE2. This judges a pattern as RE2 does: it parses with Rust's
//! `regex-syntax` (close to RE2) after the checks and rewrites that make the two agree: RE2's
//! flags (`i`, `m`, `s`, `U`), `\Q…\E` quoting, octal escapes and the refusal of
//! backreferences, RE2's Unicode class names (general categories and scripts only), the
//! repetition limit of 1000, RE2's check that nested counted repetitions multiply to at most
//! 1000, and the size of the program RE2 would compile (`re2size`). `tests/regex.rs` compares
//! the verdicts with a real Envoy.

use regex_syntax::ast::{self, Ast};

/// Verdicts already reached in this run: routes repeat their patterns, and judging one costs a
/// parse and a translation.
#[derive(Default)]
pub struct Verdicts(std::cell::RefCell<std::collections::HashMap<String, Result<(), String>>>);

impl Verdicts {
    pub fn check(&self, pattern: &str) -> Result<(), String> {
        if let Some(v) = self.0.borrow().get(pattern) {
            return v.clone();
        }
        let v = check_re2(pattern);
        self.0.borrow_mut().insert(pattern.to_string(), v.clone());
        v
    }
}

/// Ok, or why RE2 would refuse the pattern.
pub fn check_re2(pattern: &str) -> Result<(), String> {
    let rewritten = rewrite(pattern)?;
    let parsed = ast::parse::ParserBuilder::new().nest_limit(1000).octal(true).build().parse(&rewritten).map_err(|e| e.kind().to_string())?;
    walk(&parsed)?;
    if repeat_budget(&parsed, 1000) == 0 {
        return Err("bad repetition operator: nested counted repetitions exceed 1000".into());
    }
    // The Rust parser accepts more; translate to catch semantic errors (e.g. invalid ranges).
    regex_syntax::ParserBuilder::new().octal(true).build().parse(&rewritten).map_err(|e| match e {
        regex_syntax::Error::Parse(e) => e.kind().to_string(),
        regex_syntax::Error::Translate(e) => e.kind().to_string(),
        _ => "invalid regular expression".to_string(),
    })?;
    // Envoy's RE2 reads the pattern as Latin-1 (see `re2size`): size it that way.
    let bytes = regex_syntax::ParserBuilder::new()
        .octal(true)
        .build()
        .parse(&super::re2size::latin1(&rewritten))
        .map_err(|_| "invalid regular expression when read as Latin-1 bytes, as Envoy's RE2 reads it".to_string())?;
    let size = super::re2size::instructions(&bytes);
    if size > super::re2size::MAX_INSTRUCTIONS {
        return Err(format!(
            "pattern too large - compile failed: RE2 would need {size} instructions, more than the {} Envoy's RE2 allows (counted repetitions are expanded)",
            super::re2size::MAX_INSTRUCTIONS
        ));
    }
    Ok(())
}

/// `\Q…\E` becomes escaped literal text; `\1`..`\7` alone (a backreference) is refused, as RE2
/// does; `\d`, `\w`, `\s` and their negations become RE2's ASCII classes (Rust's are Unicode);
/// everything else is kept.
fn rewrite(p: &str) -> Result<String, String> {
    let mut out = String::with_capacity(p.len());
    let mut chars = p.chars().peekable();
    // Inside a bracketed class (RE2 has no nested classes; `[:name:]` is skipped whole).
    let mut in_class = false;
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            match c {
                '[' if !in_class => {
                    in_class = true;
                    if chars.peek() == Some(&'^') {
                        out.extend(chars.next());
                    }
                    if chars.peek() == Some(&']') {
                        out.extend(chars.next());
                    }
                }
                '[' if chars.peek() == Some(&':') => {
                    while let Some(c) = chars.next() {
                        out.push(c);
                        if c == ':' && chars.peek() == Some(&']') {
                            out.extend(chars.next());
                            break;
                        }
                    }
                }
                ']' if in_class => in_class = false,
                _ => {}
            }
            continue;
        }
        let perl = |name: &str, negated: bool| {
            let class = format!("[:{}{name}:]", if negated { "^" } else { "" });
            if in_class { class } else { format!("[{class}]") }
        };
        match chars.next() {
            Some('d') => out.push_str(&perl("digit", false)),
            Some('D') => out.push_str(&perl("digit", true)),
            Some('w') => out.push_str(&perl("word", false)),
            Some('W') => out.push_str(&perl("word", true)),
            // RE2's \s is [\t\n\f\r ] (no \v); the count it gives is the same as [:space:]'s.
            Some('s') => out.push_str(&perl("space", false)),
            Some('S') => out.push_str(&perl("space", true)),
            Some('Q') => {
                let mut lit = String::new();
                while let Some(c) = chars.next() {
                    if c == '\\' && chars.peek() == Some(&'E') {
                        chars.next();
                        break;
                    }
                    lit.push(c);
                }
                out.push_str(&regex_syntax::escape(&lit));
            }
            Some(d @ '1'..='7') if !chars.peek().is_some_and(|n| ('0'..='7').contains(n)) => {
                return Err(format!("invalid escape sequence: \\{d} (backreferences are not RE2)"));
            }
            Some(d @ ('8' | '9')) => return Err(format!("invalid escape sequence: \\{d}")),
            // RE2 negates a class name with `^` inside the braces: `\p{^Greek}` is `\P{Greek}`.
            Some(n @ ('p' | 'P')) if chars.peek() == Some(&'{') => {
                let mut name = String::new();
                for c in chars.by_ref() {
                    name.push(c);
                    if c == '}' {
                        break;
                    }
                }
                match name.strip_prefix("{^") {
                    Some(rest) => out.push_str(&format!("\\{}{{{rest}", if n == 'p' { 'P' } else { 'p' })),
                    None => out.push_str(&format!("\\{n}{name}")),
                }
            }
            Some(n) => {
                out.push('\\');
                out.push(n);
            }
            None => return Err("trailing \\".into()),
        }
    }
    Ok(out)
}

/// RE2's RepetitionWalker: each counted repetition divides the budget by its count; RE2 refuses
/// the pattern when the budget reaches 0.
fn repeat_budget(a: &Ast, budget: u32) -> u32 {
    match a {
        Ast::Repetition(r) => {
            let n = match &r.op.kind {
                ast::RepetitionKind::Range(ast::RepetitionRange::Exactly(n) | ast::RepetitionRange::AtLeast(n)) => *n,
                ast::RepetitionKind::Range(ast::RepetitionRange::Bounded(_, m)) => *m,
                _ => 0,
            };
            let b = budget.checked_div(n).unwrap_or(budget);
            repeat_budget(&r.ast, b)
        }
        Ast::Group(g) => repeat_budget(&g.ast, budget),
        Ast::Alternation(x) => x.asts.iter().map(|a| repeat_budget(a, budget)).min().unwrap_or(budget),
        Ast::Concat(x) => x.asts.iter().map(|a| repeat_budget(a, budget)).min().unwrap_or(budget),
        _ => budget,
    }
}

fn walk(a: &Ast) -> Result<(), String> {
    match a {
        Ast::Repetition(r) => {
            if let ast::RepetitionKind::Range(range) = &r.op.kind {
                let max = match range {
                    ast::RepetitionRange::Exactly(n) | ast::RepetitionRange::AtLeast(n) => *n,
                    ast::RepetitionRange::Bounded(a, b) => (*a).max(*b),
                };
                if max > 1000 {
                    return Err("bad repetition operator: a count above 1000".into());
                }
            }
            if matches!(*r.ast, Ast::Repetition(_)) {
                return Err("bad repetition operator (RE2 rejects stacked operators like `x*+`)".into());
            }
            walk(&r.ast)
        }
        Ast::Group(g) => {
            if let ast::GroupKind::NonCapturing(f) = &g.kind {
                check_flags(f)?;
            }
            walk(&g.ast)
        }
        Ast::Alternation(x) => x.asts.iter().try_for_each(walk),
        Ast::Concat(x) => x.asts.iter().try_for_each(walk),
        Ast::Flags(f) => check_flags(&f.flags),
        Ast::ClassBracketed(c) => check_class(&c.kind),
        Ast::ClassUnicode(u) => check_unicode(u),
        Ast::Assertion(asrt) => match asrt.kind {
            ast::AssertionKind::StartLine
            | ast::AssertionKind::EndLine
            | ast::AssertionKind::StartText
            | ast::AssertionKind::EndText
            | ast::AssertionKind::WordBoundary
            | ast::AssertionKind::NotWordBoundary => Ok(()),
            _ => Err("word-boundary assertions like \\b{start} or \\< are not RE2".into()),
        },
        _ => Ok(()),
    }
}

fn check_flags(f: &ast::Flags) -> Result<(), String> {
    for item in &f.items {
        if let ast::FlagsItemKind::Flag(ast::Flag::IgnoreWhitespace | ast::Flag::CRLF | ast::Flag::Unicode) = item.kind {
            return Err("invalid or unsupported Perl syntax: RE2's flags are i, m, s and U".into());
        }
    }
    Ok(())
}

fn check_class(c: &ast::ClassSet) -> Result<(), String> {
    match c {
        ast::ClassSet::BinaryOp(_) => Err("class set operations (&&, --, ~~) are not RE2".into()),
        ast::ClassSet::Item(ast::ClassSetItem::Bracketed(b)) => check_class(&b.kind),
        ast::ClassSet::Item(ast::ClassSetItem::Unicode(u)) => check_unicode(u),
        ast::ClassSet::Item(ast::ClassSetItem::Union(u)) => u.items.iter().try_for_each(|i| check_class(&ast::ClassSet::Item(i.clone()))),
        _ => Ok(()),
    }
}

/// RE2 knows `\pN` / `\p{Name}` for general categories, scripts and `Any`, spelled exactly.
fn check_unicode(u: &ast::ClassUnicode) -> Result<(), String> {
    let name = match &u.kind {
        ast::ClassUnicodeKind::OneLetter(c) => c.to_string(),
        ast::ClassUnicodeKind::Named(n) => n.clone(),
        ast::ClassUnicodeKind::NamedValue { .. } => return Err("invalid character class range: \\p{name=value} is not RE2".into()),
    };
    if GENERAL_CATEGORIES.contains(&name.as_str()) || SCRIPTS.contains(&name.as_str()) || name == "Any" {
        Ok(())
    } else {
        Err(format!("invalid character class range: \\p{{{name}}} (RE2 knows general categories and scripts)"))
    }
}

const GENERAL_CATEGORIES: &[&str] = &[
    "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po",
    "Ps", "S", "Sc", "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs",
];

/// Unicode 15.1 scripts, as RE2 names them.
const SCRIPTS: &[&str] = &[
    "Adlam", "Ahom", "Anatolian_Hieroglyphs", "Arabic", "Armenian", "Avestan", "Balinese", "Bamum", "Bassa_Vah", "Batak", "Bengali", "Bhaiksuki", "Bopomofo",
    "Brahmi", "Braille", "Buginese", "Buhid", "Canadian_Aboriginal", "Carian", "Caucasian_Albanian", "Chakma", "Cham", "Cherokee", "Chorasmian", "Common",
    "Coptic", "Cuneiform", "Cypriot", "Cypro_Minoan", "Cyrillic", "Deseret", "Devanagari", "Dives_Akuru", "Dogra", "Duployan", "Egyptian_Hieroglyphs",
    "Elbasan", "Elymaic", "Ethiopic", "Georgian", "Glagolitic", "Gothic", "Grantha", "Greek", "Gujarati", "Gunjala_Gondi", "Gurmukhi", "Han", "Hangul",
    "Hanifi_Rohingya", "Hanunoo", "Hatran", "Hebrew", "Hiragana", "Imperial_Aramaic", "Inherited", "Inscriptional_Pahlavi", "Inscriptional_Parthian",
    "Javanese", "Kaithi", "Kannada", "Katakana", "Kawi", "Kayah_Li", "Kharoshthi", "Khitan_Small_Script", "Khmer", "Khojki", "Khudawadi", "Lao", "Latin",
    "Lepcha", "Limbu", "Linear_A", "Linear_B", "Lisu", "Lycian", "Lydian", "Mahajani", "Makasar", "Malayalam", "Mandaic", "Manichaean", "Marchen",
    "Masaram_Gondi", "Medefaidrin", "Meetei_Mayek", "Mende_Kikakui", "Meroitic_Cursive", "Meroitic_Hieroglyphs", "Miao", "Modi", "Mongolian", "Mro",
    "Multani", "Myanmar", "Nabataean", "Nag_Mundari", "Nandinagari", "New_Tai_Lue", "Newa", "Nko", "Nushu", "Nyiakeng_Puachue_Hmong", "Ogham", "Ol_Chiki",
    "Old_Hungarian", "Old_Italic", "Old_North_Arabian", "Old_Permic", "Old_Persian", "Old_Sogdian", "Old_South_Arabian", "Old_Turkic", "Old_Uyghur", "Oriya",
    "Osage", "Osmanya", "Pahawh_Hmong", "Palmyrene", "Pau_Cin_Hau", "Phags_Pa", "Phoenician", "Psalter_Pahlavi", "Rejang", "Runic", "Samaritan", "Saurashtra",
    "Sharada", "Shavian", "Siddham", "SignWriting", "Sinhala", "Sogdian", "Sora_Sompeng", "Soyombo", "Sundanese", "Syloti_Nagri", "Syriac", "Tagalog",
    "Tagbanwa", "Tai_Le", "Tai_Tham", "Tai_Viet", "Takri", "Tamil", "Tangsa", "Tangut", "Telugu", "Thaana", "Thai", "Tibetan", "Tifinagh", "Tirhuta", "Toto",
    "Ugaritic", "Vai", "Vithkuqi", "Wancho", "Warang_Citi", "Yezidi", "Yi", "Zanabazar_Square",
];

#[cfg(test)]
mod tests {
    use super::check_re2;
    #[test]
    fn accepts_re2() {
        for p in ["/v[0-9]+/.*", "^abc$", "(?i)foo", "a{2,5}", "[a-z]+\\.example", "(?U)a+", "\\Qa.b*\\E", "\\p{Greek}+", "\\pL", "(a{10}){100}", "\\012"] {
            assert!(check_re2(p).is_ok(), "{p}: {:?}", check_re2(p));
        }
    }
    #[test]
    fn rejects_non_re2() {
        for p in ["(a)\\1", "(?=x)", "[a-z&&[^aeiou]]", "a{1001}", "(?x)a b", "x*+", "(", "[z-a]", "\\p{Alphabetic}", "(?u)a", "(a{1000}){1000}", "(a{2}){501}"] {
            assert!(check_re2(p).is_err(), "{p}");
        }
    }
}

/// `s` as a regular expression that matches it literally.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
