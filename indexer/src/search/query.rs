//! A search request and its translation into a tantivy query. Free text is parsed here, not by
//! tantivy's query parser, so user input is always taken literally: no syntax to get wrong, no
//! field or range injection. Words may be quoted into phrases; an unbalanced quote is a literal.

use std::ops::Bound;

use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhraseQuery, Query,
    RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{Facet, IndexRecordOption};
use tantivy::{Index, Term};

use super::schema::Fields;

/// Longest accepted free-text query, in bytes, and most words taken from it.
pub const MAX_QUERY_BYTES: usize = 512;
pub const MAX_WORDS: usize = 16;
/// Largest page a search may ask for.
pub const MAX_LIMIT: usize = 1000;
/// Deepest offset a search may page to (deeper pages cost more than they are worth).
pub const MAX_OFFSET: usize = 100_000;

/// Field weights: the name counts most, then tags, then the card body.
const NAME_BOOST: f32 = 4.0;
const TAGS_BOOST: f32 = 2.0;
const BODY_BOOST: f32 = 1.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Relevance,
    Downloads,
    Likes,
    Updated,
    Created,
    Trending,
}

impl Sort {
    /// The Hub's names (`downloads`, `likes`, `lastModified`, `createdAt`, `trendingScore`) and ours.
    pub fn parse(raw: &str) -> Option<Sort> {
        Some(match raw {
            "relevance" | "score" => Sort::Relevance,
            "downloads" => Sort::Downloads,
            "likes" => Sort::Likes,
            "lastModified" | "last_modified" | "updated" => Sort::Updated,
            "createdAt" | "created_at" | "created" => Sort::Created,
            "trendingScore" | "trending" => Sort::Trending,
            _ => return None,
        })
    }
}

/// Who is asking: public documents, plus private ones of these owner accounts (or all).
#[derive(Debug, Clone, Default)]
pub struct Visibility {
    pub all: bool,
    pub owners: Vec<u64>,
}

/// One facet filter: `field` is one of [`super::FACET_FIELDS`].
#[derive(Debug, Clone, PartialEq)]
pub struct FacetFilter {
    pub field: String,
    pub value: String,
}

#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub kind: String,
    pub text: Option<String>,
    pub author: Option<String>,
    /// Every one of these tags (exact).
    pub tags: Vec<String>,
    pub facets: Vec<FacetFilter>,
    pub parameters: (Option<u64>, Option<u64>),
    /// Ranges in unix milliseconds, inclusive.
    pub created: (Option<i64>, Option<i64>),
    pub updated: (Option<i64>, Option<i64>),
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
    pub visibility: Visibility,
    /// Facet fields to count over the filtered result (empty: none).
    pub count_facets: Vec<String>,
    /// Count every match (costs a pass over all of them; listings only need `more`).
    pub want_total: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum QueryError {
    #[error("the query is longer than {MAX_QUERY_BYTES} bytes")]
    TooLong,
    #[error("limit must be from 1 to {MAX_LIMIT}")]
    BadLimit,
    #[error("pages beyond offset {MAX_OFFSET} are not served; narrow the query")]
    TooDeep,
    #[error("unknown facet {0:?}")]
    UnknownFacet(String),
    #[error("search failed: {0}")]
    Engine(String),
}

/// A word or a quoted phrase of the user's query.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Word(String),
    Phrase(String),
}

/// Splits free text into words and quoted phrases. Quotes that do not close are literal.
pub fn parse_text(text: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('"')
            && let Some(end) = after.find('"')
        {
            let phrase = after[..end].trim();
            if !phrase.is_empty() {
                parts.push(Part::Phrase(phrase.to_string()));
            }
            rest = &after[end + 1..];
            continue;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = rest[..end].trim_matches('"');
        if !word.is_empty() {
            parts.push(Part::Word(word.to_string()));
        }
        rest = &rest[end..];
    }
    parts.truncate(MAX_WORDS);
    parts
}

fn boxed(q: impl Query) -> Box<dyn Query> {
    Box::new(q)
}

/// The terms an analyzer makes of `text` for `field`.
fn analyze(index: &Index, field: tantivy::schema::Field, text: &str) -> Vec<(usize, Term)> {
    let Ok(mut analyzer) = index.tokenizer_for_field(field) else {
        return Vec::new();
    };
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let t = stream.token();
        out.push((t.position, Term::from_field_text(field, &t.text)));
    }
    out
}

/// All terms of `terms` in one field, as a phrase when they are several positions.
fn all_of(terms: Vec<(usize, Term)>) -> Option<Box<dyn Query>> {
    match terms.len() {
        0 => None,
        1 => Some(boxed(TermQuery::new(
            terms[0].1.clone(),
            IndexRecordOption::WithFreqs,
        ))),
        _ => {
            // Name tokens share positions (a split run and its parts): require each token.
            let clauses = terms
                .into_iter()
                .map(|(_, t)| {
                    (
                        Occur::Must,
                        boxed(TermQuery::new(t, IndexRecordOption::WithFreqs)),
                    )
                })
                .collect();
            Some(boxed(BooleanQuery::new(clauses)))
        }
    }
}

/// One word: in the name (exact, or as a prefix when it is the last word), the tags or the body,
/// with typo tolerance for longer words.
fn word_query(
    index: &Index,
    f: &Fields,
    word: &str,
    last: bool,
    fuzzy: bool,
) -> Option<Box<dyn Query>> {
    let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let name_terms = analyze(index, f.name, word);
    let single_name = (name_terms.len() == 1).then(|| name_terms[0].1.clone());
    if let Some(q) = all_of(name_terms) {
        any.push((Occur::Should, boxed(BoostQuery::new(q, NAME_BOOST))));
    }
    if let Some(term) = single_name {
        let chars = word.chars().count();
        // Prefixes of one or two letters expand to a large part of the dictionary.
        if last && chars >= 3 {
            let prefix = FuzzyTermQuery::new_prefix(term.clone(), 0, true);
            any.push((
                Occur::Should,
                boxed(BoostQuery::new(boxed(prefix), NAME_BOOST * 0.5)),
            ));
        }
        if fuzzy && chars >= 5 {
            let distance = if chars >= 9 { 2 } else { 1 };
            let fuzzy = FuzzyTermQuery::new(term, distance, true);
            any.push((
                Occur::Should,
                boxed(BoostQuery::new(boxed(fuzzy), NAME_BOOST * 0.3)),
            ));
        }
    }
    if let Some(q) = all_of(analyze(index, f.tags_text, word)) {
        any.push((Occur::Should, boxed(BoostQuery::new(q, TAGS_BOOST))));
    }
    let body_terms = analyze(index, f.body, word);
    let single_body = (body_terms.len() == 1).then(|| body_terms[0].1.clone());
    if let Some(q) = all_of(body_terms) {
        any.push((Occur::Should, boxed(BoostQuery::new(q, BODY_BOOST))));
    }
    if let Some(term) = single_body
        && fuzzy
        && word.chars().count() >= 5
    {
        // Stemming can turn one typo into two edits (`radiolgy` -> `radiolgi` vs `radiolog`).
        let distance = if word.chars().count() >= 8 { 2 } else { 1 };
        let fuzzy = FuzzyTermQuery::new(term, distance, true);
        any.push((
            Occur::Should,
            boxed(BoostQuery::new(boxed(fuzzy), BODY_BOOST * 0.3)),
        ));
    }
    (!any.is_empty()).then(|| boxed(BooleanQuery::new(any)))
}

fn phrase_query(index: &Index, f: &Fields, phrase: &str) -> Option<Box<dyn Query>> {
    let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (field, boost) in [(f.body, BODY_BOOST), (f.tags_text, TAGS_BOOST)] {
        let terms = analyze(index, field, phrase);
        let q: Option<Box<dyn Query>> = match terms.len() {
            0 => None,
            1 => Some(boxed(TermQuery::new(
                terms[0].1.clone(),
                IndexRecordOption::WithFreqs,
            ))),
            _ => Some(boxed(PhraseQuery::new_with_offset(terms))),
        };
        if let Some(q) = q {
            any.push((Occur::Should, boxed(BoostQuery::new(q, boost))));
        }
    }
    // Names: every token of the phrase, in any order (names rarely read as sentences).
    if let Some(q) = all_of(analyze(index, f.name, phrase)) {
        any.push((Occur::Should, boxed(BoostQuery::new(q, NAME_BOOST))));
    }
    (!any.is_empty()).then(|| boxed(BooleanQuery::new(any)))
}

fn filter(q: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, boxed(ConstScoreQuery::new(q, 0.0)))
}

/// Builds the tantivy query for a request (text, filters, visibility). `fuzzy` adds typo
/// tolerance to the words (the index runs it when the exact query finds nothing).
pub fn build(
    index: &Index,
    f: &Fields,
    req: &SearchRequest,
    fuzzy: bool,
) -> Result<Box<dyn Query>, QueryError> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    clauses.push(filter(boxed(TermQuery::new(
        Term::from_field_text(f.kind, &req.kind),
        IndexRecordOption::Basic,
    ))));
    if let Some(text) = req.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if text.len() > MAX_QUERY_BYTES {
            return Err(QueryError::TooLong);
        }
        let parts = parse_text(text);
        let n = parts.len();
        let mut words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let q = match part {
                Part::Word(w) => word_query(index, f, w, i + 1 == n, fuzzy),
                Part::Phrase(p) => phrase_query(index, f, p),
            };
            if let Some(q) = q {
                words.push((Occur::Should, q));
            }
        }
        if words.is_empty() {
            // Nothing searchable (only punctuation): nothing matches.
            return Ok(boxed(tantivy::query::EmptyQuery));
        }
        // Most words must match: one word in three may be missing (stop words, a detail the
        // card does not mention). With one or two words every word must match: plain required
        // clauses let tantivy intersect posting lists instead of scoring every candidate.
        let required = words.len() - words.len() / 3;
        if required == words.len() {
            clauses.extend(words.into_iter().map(|(_, q)| (Occur::Must, q)));
        } else {
            clauses.push((
                Occur::Must,
                boxed(BooleanQuery::with_minimum_required_clauses(words, required)),
            ));
        }
    }
    if let Some(author) = &req.author {
        clauses.push(filter(boxed(TermQuery::new(
            Term::from_field_text(f.owner, &author.to_ascii_lowercase()),
            IndexRecordOption::Basic,
        ))));
    }
    for tag in &req.tags {
        clauses.push(filter(boxed(TermQuery::new(
            Term::from_field_text(f.tags, tag),
            IndexRecordOption::Basic,
        ))));
    }
    for ff in &req.facets {
        if !super::FACET_FIELDS.contains(&ff.field.as_str()) {
            return Err(QueryError::UnknownFacet(ff.field.clone()));
        }
        let facet = Facet::from_path([ff.field.as_str(), ff.value.as_str()]);
        clauses.push(filter(boxed(TermQuery::new(
            Term::from_facet(f.facets, &facet),
            IndexRecordOption::Basic,
        ))));
    }
    let bound_u64 = |field, v: Option<u64>| match v {
        Some(v) => Bound::Included(Term::from_field_u64(field, v)),
        None => Bound::Unbounded,
    };
    let bound_i64 = |field, v: Option<i64>| match v {
        Some(v) => Bound::Included(Term::from_field_i64(field, v)),
        None => Bound::Unbounded,
    };
    if req.parameters != (None, None) {
        let (lo, hi) = req.parameters;
        clauses.push(filter(boxed(RangeQuery::new(
            bound_u64(f.parameters, lo),
            bound_u64(f.parameters, hi),
        ))));
    }
    for (field, (lo, hi)) in [(f.created, req.created), (f.updated, req.updated)] {
        if lo.is_some() || hi.is_some() {
            clauses.push(filter(boxed(RangeQuery::new(
                bound_i64(field, lo),
                bound_i64(field, hi),
            ))));
        }
    }
    if !req.visibility.all {
        let mut any: Vec<(Occur, Box<dyn Query>)> = vec![(
            Occur::Should,
            boxed(TermQuery::new(
                Term::from_field_u64(f.private, 0),
                IndexRecordOption::Basic,
            )),
        )];
        if !req.visibility.owners.is_empty() {
            let owners = req
                .visibility
                .owners
                .iter()
                .map(|o| Term::from_field_u64(f.owner_id, *o));
            any.push((Occur::Should, boxed(TermSetQuery::new(owners))));
        }
        clauses.push(filter(boxed(BooleanQuery::new(any))));
    }
    Ok(boxed(BooleanQuery::new(clauses)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_split_into_words_and_phrases_literally() {
        assert_eq!(
            parse_text(r#"legal "contract law" german"#),
            vec![
                Part::Word("legal".into()),
                Part::Phrase("contract law".into()),
                Part::Word("german".into())
            ]
        );
        assert_eq!(
            parse_text(r#"a "unbalanced b"#),
            vec![
                Part::Word("a".into()),
                Part::Word("unbalanced".into()),
                Part::Word("b".into())
            ]
        );
        assert_eq!(parse_text("title:x AND (y OR z*)").len(), 5);
        assert_eq!(parse_text(&"w ".repeat(100)).len(), MAX_WORDS);
        assert!(parse_text("   ").is_empty());
    }
}
