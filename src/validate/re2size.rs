//! The size of the program RE2 compiles a pattern to in Envoy, and RE2's limit on it.
//!
//! Envoy 1.40 compiles `safe_regex` patterns with RE2 in Latin-1 mode: the pattern and the
//! matched text are bytes (`.` is one byte, `\p{Greek}` matches nothing, `é` in a pattern is the
//! two bytes of its UTF-8 encoding). RE2 refuses a pattern whose program needs more
//! instructions than its memory budget allows ("pattern too large - compile failed"); in Envoy
//! that budget is 698,996 instructions (measured: `a{1000}` 698 times then `a{992}` compiles,
//! one `a` more does not; `tests/regex.rs` checks both sides against a real Envoy).
//!
//! This counts what RE2's compiler allocates: a fail instruction; one instruction per literal
//! byte; a class as one byte range per range (clipped to Latin-1, the A-Z half dropped when
//! the class folds ASCII case, as RE2 does) joined by alternations, nothing when no range is
//! left (the class matches nothing); counted repetitions expanded as RE2's simplifier expands
//! them (`x{n,m}` is n copies and m-n nested optional copies); one alternation per `*`, `+`,
//! `?` and per extra alternative; two per capture; the match instruction; and the `.*?` loop of
//! a search not anchored at the start. RE2 factors common prefixes out of alternations before
//! compiling; this does the two rounds that matter most (common literal prefixes, runs of single
//! characters and classes into one class). What it leaves unfactored is counted a little above
//! RE2's size: near the limit such a pattern may be refused where RE2 would just accept it,
//! never the other way round.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// RE2's instruction budget in Envoy 1.40 (fail and match instructions included).
pub const MAX_INSTRUCTIONS: u64 = 698_996;

/// The pattern as RE2 reads it in Latin-1 mode: each byte one character.
pub fn latin1(pattern: &str) -> String {
    pattern.bytes().map(char::from).collect()
}

/// Instructions of the program for `hir` (parsed from [`latin1`] of the pattern), saturating.
pub fn instructions(hir: &Hir) -> u64 {
    let body = count(hir).n;
    // Fail instruction, the pattern, match; an unanchored program also loops on any byte.
    let dotstar = if anchored_start(hir, 0) { 0 } else { 2 };
    body.saturating_add(2 + dotstar)
}

/// RE2's IsAnchorStart: a leading `\A` (through concatenations and captures, four levels).
fn anchored_start(h: &Hir, depth: u32) -> bool {
    if depth >= 4 {
        return false;
    }
    match h.kind() {
        HirKind::Look(Look::Start) => true,
        HirKind::Concat(subs) => subs.first().is_some_and(|s| anchored_start(s, depth + 1)),
        HirKind::Capture(c) => anchored_start(&c.sub, depth + 1),
        _ => false,
    }
}

/// Instructions allocated for a fragment, and whether it can match nothing (RE2's NoMatch:
/// concatenations with it allocate but match nothing, alternations skip it).
#[derive(Clone, Copy)]
struct Frag {
    n: u64,
    none: bool,
}

fn frag(n: u64) -> Frag {
    Frag { n, none: false }
}

fn count(h: &Hir) -> Frag {
    match h.kind() {
        // An empty match is a no-op instruction.
        HirKind::Empty => frag(1),
        HirKind::Literal(l) => frag(std::str::from_utf8(&l.0).map(|s| s.chars().count()).unwrap_or(l.0.len()) as u64),
        HirKind::Class(c) => {
            let ranges: Vec<(u32, u32)> = match c {
                Class::Unicode(c) => c.ranges().iter().map(|r| (u32::from(r.start()), u32::from(r.end()))).collect(),
                Class::Bytes(c) => c.ranges().iter().map(|r| (u32::from(r.start()), u32::from(r.end()))).collect(),
            };
            class(&ranges)
        }
        HirKind::Look(_) => frag(1),
        HirKind::Repetition(r) => {
            let s = count(&r.sub);
            let (n, m) = (u64::from(r.min), r.max.map(u64::from));
            match (n, m) {
                (0, Some(0)) => frag(1),
                (1, Some(1)) => s,
                // x*, x?: one alternation (x? of nothing is a no-op); x+: x, then one.
                (0, None) | (0, Some(1)) => frag(s.n.saturating_add(1)),
                (1, None) => Frag { n: s.n.saturating_add(1), none: s.none },
                // x{n,}: n-1 copies, then x+.
                (n, None) => Frag { n: n.saturating_mul(s.n).saturating_add(1), none: s.none },
                // x{n,m}: n copies, then m-n nested optional copies.
                (n, Some(m)) => Frag { n: m.saturating_mul(s.n).saturating_add(m.saturating_sub(n)), none: n > 0 && s.none },
            }
        }
        HirKind::Capture(c) => {
            let s = count(&c.sub);
            if s.none { s } else { frag(s.n.saturating_add(2)) }
        }
        HirKind::Concat(subs) => subs.iter().map(count).fold(frag(0), |a, s| Frag { n: a.n.saturating_add(s.n), none: a.none || s.none }),
        HirKind::Alternation(subs) => {
            let seqs: Vec<Vec<Piece>> = subs.iter().map(pieces).collect();
            alternation(&seqs)
        }
    }
}

/// An alternative as RE2's alternation factoring sees it: leading literal characters, then
/// the rest.
#[derive(Clone, Copy)]
enum Piece<'h> {
    Char(char),
    Node(&'h Hir),
}

fn pieces(h: &Hir) -> Vec<Piece<'_>> {
    fn push<'h>(h: &'h Hir, out: &mut Vec<Piece<'h>>) {
        match h.kind() {
            HirKind::Literal(l) => match std::str::from_utf8(&l.0) {
                Ok(s) => out.extend(s.chars().map(Piece::Char)),
                Err(_) => out.push(Piece::Node(h)),
            },
            HirKind::Concat(subs) => subs.iter().for_each(|s| push(s, out)),
            _ => out.push(Piece::Node(h)),
        }
    }
    let mut out = Vec::new();
    push(h, &mut out);
    out
}

fn sequence(seq: &[Piece]) -> Frag {
    if seq.is_empty() {
        return frag(1);
    }
    seq.iter()
        .map(|p| match p {
            Piece::Char(_) => frag(1),
            Piece::Node(h) => count(h),
        })
        .fold(frag(0), |a, s| Frag { n: a.n.saturating_add(s.n), none: a.none || s.none })
}

fn leading(seq: &[Piece]) -> Vec<char> {
    seq.iter().map_while(|p| if let Piece::Char(c) = p { Some(*c) } else { None }).collect()
}

/// The ranges of an alternative that is one character or one class, for merging.
fn as_class(seq: &[Piece]) -> Option<Vec<(u32, u32)>> {
    match seq {
        [Piece::Char(c)] => Some(vec![(u32::from(*c), u32::from(*c))]),
        [Piece::Node(h)] => match h.kind() {
            HirKind::Class(Class::Unicode(c)) => Some(c.ranges().iter().map(|r| (u32::from(r.start()), u32::from(r.end()))).collect()),
            HirKind::Class(Class::Bytes(c)) => Some(c.ranges().iter().map(|r| (u32::from(r.start()), u32::from(r.end()))).collect()),
            _ => None,
        },
        _ => None,
    }
}

/// RE2's alternation factoring, its first and third rounds: runs of alternatives with a
/// common literal prefix share it (`ab|ac` is `a(?:b|c)`), and runs of single characters and
/// classes become one class; then one alternation instruction per remaining alternative.
fn alternation(seqs: &[Vec<Piece>]) -> Frag {
    let mut items: Vec<Frag> = Vec::new();
    let mut pending: Option<Vec<(u32, u32)>> = None;
    let mut i = 0;
    while i < seqs.len() {
        let mut prefix = leading(&seqs[i]);
        let mut j = i + 1;
        while j < seqs.len() && !prefix.is_empty() {
            let next = leading(&seqs[j]);
            let common = prefix.iter().zip(&next).take_while(|(a, b)| a == b).count();
            if common == 0 {
                break;
            }
            prefix.truncate(common);
            j += 1;
        }
        if j - i >= 2 {
            if let Some(r) = pending.take() {
                items.push(merged_class(r));
            }
            let rest: Vec<Vec<Piece>> = seqs[i..j].iter().map(|s| s[prefix.len()..].to_vec()).collect();
            let tail = alternation(&rest);
            items.push(Frag { n: (prefix.len() as u64).saturating_add(tail.n), none: tail.none });
            i = j;
            continue;
        }
        match as_class(&seqs[i]) {
            Some(r) => pending.get_or_insert_with(Vec::new).extend(r),
            None => {
                if let Some(r) = pending.take() {
                    items.push(merged_class(r));
                }
                items.push(sequence(&seqs[i]));
            }
        }
        i += 1;
    }
    if let Some(r) = pending.take() {
        items.push(merged_class(r));
    }
    let mut acc: Option<Frag> = None;
    for s in items {
        acc = Some(match acc {
            None => s,
            Some(a) if a.none => Frag { n: a.n.saturating_add(s.n), none: s.none },
            Some(a) if s.none => Frag { n: a.n.saturating_add(s.n), none: false },
            Some(a) => frag(a.n.saturating_add(s.n).saturating_add(1)),
        });
    }
    acc.unwrap_or(Frag { n: 0, none: true })
}

/// Ranges of several alternatives as one sorted, merged class.
fn merged_class(mut r: Vec<(u32, u32)>) -> Frag {
    r.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (lo, hi) in r {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    class(&out)
}

/// A class in Latin-1: its ranges up to 0xFF, the A-Z ones dropped when the class folds ASCII
/// case (a-z then match both cases), one byte range each, joined by alternations.
fn class(ranges: &[(u32, u32)]) -> Frag {
    let has = |c: u8| ranges.iter().any(|&(lo, hi)| lo <= u32::from(c) && u32::from(c) <= hi);
    let folds = (b'a'..=b'z').all(|c| has(c) == has(c - 32));
    let kept = ranges.iter().filter(|&&(lo, hi)| lo <= 0xFF && !(folds && u32::from(b'A') <= lo && hi <= u32::from(b'Z'))).count() as u64;
    if kept == 0 { Frag { n: 0, none: true } } else { frag(2 * kept - 1) }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn n(p: &str) -> u64 {
        instructions(&regex_syntax::ParserBuilder::new().build().parse(&latin1(p)).unwrap())
    }
    // Each figure below is the cost Envoy showed against a budget filled with `a`s.
    #[test]
    fn counts_agree_with_envoy() {
        // Less the fail, match and loop instructions.
        let per_copy = |p: &str| n(&format!("{p}{{1000}}")) - 4;
        assert_eq!(per_copy("a"), 1000);
        assert_eq!(per_copy("."), 3000);
        assert_eq!(per_copy("(?s)."), 1000);
        assert_eq!(per_copy("[a-z]"), 1000);
        assert_eq!(per_copy("[ab]"), 1000);
        assert_eq!(per_copy("(?i)[a-z]"), 1000);
        assert_eq!(per_copy("\\pL"), 13000);
        assert_eq!(per_copy("\\p{Greek}"), 0);
        // `é` is two Latin-1 characters; only the second repeats.
        assert_eq!(per_copy("é"), 1001);
        assert_eq!(n("abc"), 7);
        // Anchored at the start: `\A` is a no-op and the search loop goes.
        assert_eq!(n("^abc"), 6);
        assert_eq!(n("a|b|c"), n("[abc]"), "one class either way");
    }
}
