//! The name tokenizer: model names are written `Llama-3.1-8B-Instruct`, `bert_base_uncased`,
//! `DeepSeekCoder`, so a name is split on every non-alphanumeric character, then on camel-case
//! and letter/digit boundaries, lower-cased; an alphanumeric run that was split is also emitted
//! whole at the same position, so both `8b` and `8 b` match `8B`.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

pub const NAME_TOKENIZER: &str = "grove_name";

#[derive(Clone, Default)]
pub struct NameTokenizer {
    tokens: Vec<Token>,
}

pub struct NameTokenStream<'a> {
    tokens: &'a mut [Token],
    index: Option<usize>,
}

/// Splits one alphanumeric run at camel-case and letter/digit boundaries.
fn split_run(run: &str) -> Vec<(usize, usize)> {
    let chars: Vec<(usize, char)> = run.char_indices().collect();
    let mut parts = Vec::new();
    let mut start = 0;
    for w in 1..chars.len() {
        let (i, c) = chars[w];
        let (_, p) = chars[w - 1];
        let boundary = (p.is_lowercase() && c.is_uppercase())
            || (p.is_alphabetic() && c.is_numeric())
            || (p.is_numeric() && c.is_alphabetic())
            // "HTTPServer": split before the last capital of a run of capitals.
            || (p.is_uppercase()
                && c.is_uppercase()
                && chars.get(w + 1).is_some_and(|(_, n)| n.is_lowercase()));
        if boundary {
            parts.push((start, i));
            start = i;
        }
    }
    parts.push((start, run.len()));
    parts
}

/// The tokens of `text` as (offset_from, offset_to, lower-cased text, position).
pub fn name_tokens(text: &str) -> Vec<(usize, usize, String, usize)> {
    let mut out = Vec::new();
    let mut position = 0;
    let mut run_start: Option<usize> = None;
    let mut flush = |start: usize, end: usize, position: &mut usize| {
        let run = &text[start..end];
        let parts = split_run(run);
        if parts.len() > 1 {
            out.push((start, end, run.to_lowercase(), *position));
        }
        for (a, b) in parts {
            out.push((start + a, start + b, run[a..b].to_lowercase(), *position));
            *position += 1;
        }
    };
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            run_start.get_or_insert(i);
        } else if let Some(s) = run_start.take() {
            flush(s, i, &mut position);
        }
    }
    if let Some(s) = run_start {
        flush(s, text.len(), &mut position);
    }
    out
}

impl Tokenizer for NameTokenizer {
    type TokenStream<'a> = NameTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> NameTokenStream<'a> {
        self.tokens.clear();
        for (from, to, text, position) in name_tokens(text) {
            self.tokens.push(Token {
                offset_from: from,
                offset_to: to,
                position,
                text,
                position_length: 1,
            });
        }
        NameTokenStream {
            tokens: &mut self.tokens,
            index: None,
        }
    }
}

impl TokenStream for NameTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let next = self.index.map_or(0, |i| i + 1);
        self.index = Some(next);
        next < self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index.unwrap_or(0)]
    }

    fn token_mut(&mut self) -> &mut Token {
        let i = self.index.unwrap_or(0);
        &mut self.tokens[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        name_tokens(s).into_iter().map(|t| t.2).collect()
    }

    #[test]
    fn splits_names_the_way_people_type_them() {
        assert_eq!(
            words("Llama-3.1-8B-Instruct"),
            ["llama", "3", "1", "8b", "8", "b", "instruct"]
        );
        assert_eq!(words("bert_base_uncased"), ["bert", "base", "uncased"]);
        assert_eq!(
            words("DeepSeekCoder"),
            ["deepseekcoder", "deep", "seek", "coder"]
        );
        assert_eq!(words("HTTPServer7"), ["httpserver7", "http", "server", "7"]);
        assert_eq!(words("org/Qwen2"), ["org", "qwen2", "qwen", "2"]);
        assert!(words("--").is_empty());
    }
}
