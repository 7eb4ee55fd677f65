//! Envoy's `safe_regex` is RE2. Rust's regex syntax is close; this rejects what parses in Rust
//! but not in RE2 (and what neither accepts), so a bad pattern fails here, not in Envoy.

use regex_syntax::ast::{self, Ast};

/// Ok, or why RE2 would refuse the pattern.
pub fn check_re2(pattern: &str) -> Result<(), String> {
    let parsed = ast::parse::ParserBuilder::new().nest_limit(100).build().parse(pattern).map_err(|e| e.kind().to_string())?;
    walk(&parsed)?;
    // The Rust parser accepts more; compile to catch semantic errors (e.g. invalid ranges).
    regex_syntax::Parser::new().parse(pattern).map_err(|e| match e {
        regex_syntax::Error::Parse(e) => e.kind().to_string(),
        regex_syntax::Error::Translate(e) => e.kind().to_string(),
        _ => "invalid regular expression".to_string(),
    })?;
    Ok(())
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
                    return Err("repetition count above 1000 (RE2 limit)".into());
                }
            }
            if matches!(*r.ast, Ast::Repetition(_)) {
                return Err("stacked repetition operators (RE2 rejects `x*+`)".into());
            }
            walk(&r.ast)
        }
        Ast::Group(g) => walk(&g.ast),
        Ast::Alternation(x) => x.asts.iter().try_for_each(walk),
        Ast::Concat(x) => x.asts.iter().try_for_each(walk),
        Ast::Flags(f) => check_flags(&f.flags),
        Ast::ClassBracketed(c) => check_class(&c.kind),
        Ast::Assertion(asrt) => match asrt.kind {
            ast::AssertionKind::StartLine
            | ast::AssertionKind::EndLine
            | ast::AssertionKind::StartText
            | ast::AssertionKind::EndText
            | ast::AssertionKind::WordBoundary
            | ast::AssertionKind::NotWordBoundary => Ok(()),
            _ => Err("word-boundary assertions like \\b{start} are not RE2".into()),
        },
        _ => Ok(()),
    }
    .and_then(|_| match a {
        Ast::Group(g) => match &g.kind {
            ast::GroupKind::NonCapturing(f) => check_flags(f),
            _ => Ok(()),
        },
        _ => Ok(()),
    })
}

fn check_flags(f: &ast::Flags) -> Result<(), String> {
    for item in &f.items {
        if let ast::FlagsItemKind::Flag(ast::Flag::IgnoreWhitespace | ast::Flag::CRLF | ast::Flag::SwapGreed) = item.kind {
            return Err("flags x, R and U are not RE2".into());
        }
    }
    Ok(())
}

fn check_class(c: &ast::ClassSet) -> Result<(), String> {
    match c {
        ast::ClassSet::BinaryOp(_) => Err("class set operations (&&, --, ~~) are not RE2".into()),
        ast::ClassSet::Item(ast::ClassSetItem::Bracketed(b)) => check_class(&b.kind),
        ast::ClassSet::Item(ast::ClassSetItem::Union(u)) => {
            u.items.iter().try_for_each(|i| check_class(&ast::ClassSet::Item(i.clone())))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::check_re2;
    #[test]
    fn accepts_re2() {
        for p in ["/v[0-9]+/.*", "^abc$", "(?i)foo", "a{2,5}", "[a-z]+\\.example"] {
            assert!(check_re2(p).is_ok(), "{p}");
        }
    }
    #[test]
    fn rejects_non_re2() {
        for p in ["(a)\\1", "(?=x)", "[a-z&&[^aeiou]]", "a{1001}", "(?x)a b", "x*+", "(", "[z-a]"] {
            assert!(check_re2(p).is_err(), "{p}");
        }
    }
}
