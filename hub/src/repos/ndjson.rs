//! An incremental parser for the commit endpoint's NDJSON body.
//!
//! A commit line can carry a whole file as base64 (`{"key": "file", "value": {"content": …}}`),
//! hundreds of megabytes long, so lines are never buffered whole: bytes are pushed through a
//! small JSON tokenizer that streams the `value.content` string, unescaped and base64-decoded,
//! into a [`ContentSink`], and keeps every other scalar field (bounded in size) by its dotted
//! path (`key`, `value.path`, `value.parentCommit`, …). Memory stays bounded whatever the body.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// Longest scalar field kept (paths, summaries, descriptions, oids).
pub const MAX_FIELD: usize = 256 * 1024;
/// Deepest nesting accepted in a line.
const MAX_DEPTH: usize = 8;

/// Receives the decoded bytes of a line's `value.content`.
pub trait ContentSink {
    /// What a finished content becomes (a spool file, a buffer in tests).
    type Content;
    /// Starts a new content (called once per line that has content, before any bytes).
    fn begin(&mut self) -> Result<(), String>;
    fn write(&mut self, bytes: &[u8]) -> Result<(), String>;
    /// Finishes the content of the line just completed; `None` when it had none.
    fn take(&mut self) -> Result<Option<Self::Content>, String>;
}

/// Called with each completed line and its content.
pub type OnLine<'a, C> = dyn FnMut(Line, Option<C>) -> Result<(), String> + 'a;

/// One complete line: its scalar fields and whether it carried content.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Line {
    pub fields: HashMap<String, Value>,
    pub has_content: bool,
}

impl Line {
    pub fn str(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// A value (at the start of a line: the top-level object).
    Value,
    /// A key or `}` right after `{`.
    KeyOrEnd,
    /// A key after a `,`.
    Key,
    Colon,
    /// `,` or the closing bracket of the current container.
    CommaOrEnd,
    /// An array element or `]` right after `[`.
    ElementOrEnd,
    /// The line's value is complete: only whitespace until the newline.
    LineEnd,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Container {
    Object,
    Array,
}

/// Where the string being read goes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum StringTarget {
    Key,
    Field,
    Content,
}

#[derive(Debug, Default)]
struct StringState {
    escape: bool,
    /// Collected `\uXXXX` hex digits while inside an escape.
    unicode: Option<String>,
    /// A high surrogate waiting for its low half.
    high_surrogate: Option<u16>,
}

pub struct LineParser {
    expect: Expect,
    stack: Vec<(Container, Option<String>)>,
    /// Inside a string: where it goes and its escape state.
    string: Option<(StringTarget, StringState)>,
    buf: Vec<u8>,
    /// A bare scalar (number, true, false, null) being read.
    scalar: Option<String>,
    /// Base64 characters not yet forming a whole quad.
    b64_tail: Vec<u8>,
    b64_done: bool,
    decoded: Vec<u8>,
    line: Line,
}

impl Default for LineParser {
    fn default() -> Self {
        Self::new()
    }
}

impl LineParser {
    pub fn new() -> Self {
        Self {
            expect: Expect::Value,
            stack: Vec::new(),
            string: None,
            buf: Vec::new(),
            scalar: None,
            b64_tail: Vec::new(),
            b64_done: false,
            decoded: Vec::new(),
            line: Line::default(),
        }
    }

    /// True when nothing of a line has been read (only whitespace since the last line).
    pub fn is_idle(&self) -> bool {
        self.expect == Expect::Value && self.stack.is_empty() && self.string.is_none()
    }

    /// The dotted path of the value about to be read.
    fn value_path(&self) -> String {
        self.stack
            .iter()
            .filter_map(|(_, key)| key.as_deref())
            .collect::<Vec<_>>()
            .join(".")
    }

    /// Feeds bytes; calls `on_line` for every completed line.
    pub fn push<S: ContentSink>(
        &mut self,
        bytes: &[u8],
        sink: &mut S,
        on_line: &mut OnLine<'_, S::Content>,
    ) -> Result<(), String> {
        let mut i = 0;
        while i < bytes.len() {
            // Fast path: runs of plain characters inside the content string.
            if let Some((StringTarget::Content, state)) = &self.string
                && !state.escape
                && state.unicode.is_none()
            {
                let run = bytes[i..]
                    .iter()
                    .position(|&b| b == b'"' || b == b'\\')
                    .unwrap_or(bytes.len() - i);
                if run > 0 {
                    self.content_chars(&bytes[i..i + run], sink)?;
                    i += run;
                    continue;
                }
            }
            self.byte(bytes[i], sink, on_line)?;
            i += 1;
        }
        Ok(())
    }

    /// Ends the body: a last line without a trailing newline counts.
    pub fn finish<S: ContentSink>(
        &mut self,
        sink: &mut S,
        on_line: &mut OnLine<'_, S::Content>,
    ) -> Result<(), String> {
        if let Some(scalar) = self.scalar.take() {
            self.end_scalar(scalar)?;
        }
        match self.expect {
            Expect::LineEnd => self.end_line(sink, on_line),
            _ if self.is_idle() => Ok(()),
            _ => Err("the body ends in the middle of a line".into()),
        }
    }

    fn content_chars<S: ContentSink>(&mut self, chars: &[u8], sink: &mut S) -> Result<(), String> {
        if self.b64_done {
            return Err("base64 content continues after its padding".into());
        }
        for &c in chars {
            if !(c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=') {
                return Err(format!(
                    "invalid base64 character {:?} in content",
                    c as char
                ));
            }
        }
        self.b64_tail.extend_from_slice(chars);
        let whole = self.b64_tail.len() / 4 * 4;
        if whole == 0 {
            return Ok(());
        }
        let quads: Vec<u8> = self.b64_tail.drain(..whole).collect();
        if let Some(pad) = quads.iter().position(|&c| c == b'=') {
            if pad < quads.len() - 4 {
                return Err("base64 padding in the middle of content".into());
            }
            self.b64_done = true;
        }
        self.decoded.clear();
        self.decoded.resize(quads.len() / 4 * 3, 0);
        let n = STANDARD
            .decode_slice(&quads, &mut self.decoded)
            .map_err(|e| format!("invalid base64 content: {e}"))?;
        sink.write(&self.decoded[..n])
    }

    fn byte<S: ContentSink>(
        &mut self,
        b: u8,
        sink: &mut S,
        on_line: &mut OnLine<'_, S::Content>,
    ) -> Result<(), String> {
        if self.string.is_some() {
            return self.string_byte(b, sink);
        }
        if let Some(scalar) = &mut self.scalar {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+') {
                if scalar.len() > 64 {
                    return Err("number or literal too long".into());
                }
                scalar.push(b as char);
                return Ok(());
            }
            let scalar = self.scalar.take().unwrap_or_default();
            self.end_scalar(scalar)?;
        }
        match b {
            b'\n' => {
                if self.expect == Expect::LineEnd {
                    return self.end_line(sink, on_line);
                }
                if self.is_idle() {
                    return Ok(());
                }
                Err("a line ends before its JSON value is complete".into())
            }
            b' ' | b'\t' | b'\r' => Ok(()),
            b'"' => {
                let target = match self.expect {
                    Expect::KeyOrEnd | Expect::Key => StringTarget::Key,
                    Expect::Value | Expect::ElementOrEnd if !self.stack.is_empty() => {
                        if self.value_path() == "value.content" {
                            if self.line.has_content {
                                return Err("a line has two contents".into());
                            }
                            self.line.has_content = true;
                            self.b64_tail.clear();
                            self.b64_done = false;
                            sink.begin()?;
                            StringTarget::Content
                        } else {
                            StringTarget::Field
                        }
                    }
                    _ => return Err("unexpected string".into()),
                };
                self.buf.clear();
                self.string = Some((target, StringState::default()));
                Ok(())
            }
            b'{' | b'[' => {
                if !matches!(self.expect, Expect::Value | Expect::ElementOrEnd) {
                    return Err(format!("unexpected {:?}", b as char));
                }
                if self.stack.len() >= MAX_DEPTH {
                    return Err("the line nests too deeply".into());
                }
                if b == b'{' {
                    self.stack.push((Container::Object, None));
                    self.expect = Expect::KeyOrEnd;
                } else {
                    self.stack.push((Container::Array, None));
                    self.expect = Expect::ElementOrEnd;
                }
                Ok(())
            }
            b'}' | b']' => {
                let want = if b == b'}' {
                    Container::Object
                } else {
                    Container::Array
                };
                let ok_state = match want {
                    Container::Object => {
                        matches!(self.expect, Expect::KeyOrEnd | Expect::CommaOrEnd)
                    }
                    Container::Array => {
                        matches!(self.expect, Expect::ElementOrEnd | Expect::CommaOrEnd)
                    }
                };
                match self.stack.last() {
                    Some((c, _)) if *c == want && ok_state => {}
                    _ => return Err(format!("unexpected {:?}", b as char)),
                }
                self.stack.pop();
                self.after_value();
                Ok(())
            }
            b':' if self.expect == Expect::Colon => {
                self.expect = Expect::Value;
                Ok(())
            }
            b',' if self.expect == Expect::CommaOrEnd => {
                self.expect = match self.stack.last() {
                    Some((Container::Object, _)) => Expect::Key,
                    _ => Expect::Value,
                };
                Ok(())
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n'
                if matches!(self.expect, Expect::Value | Expect::ElementOrEnd)
                    && !self.stack.is_empty() =>
            {
                self.scalar = Some((b as char).to_string());
                Ok(())
            }
            other => Err(format!("unexpected character {:?}", other as char)),
        }
    }

    fn string_byte<S: ContentSink>(&mut self, b: u8, sink: &mut S) -> Result<(), String> {
        let Some((target, state)) = &mut self.string else {
            return Ok(());
        };
        let target = *target;
        if let Some(hex) = &mut state.unicode {
            hex.push(b as char);
            if hex.len() < 4 {
                return Ok(());
            }
            let code =
                u16::from_str_radix(hex, 16).map_err(|_| "invalid \\u escape".to_string())?;
            state.unicode = None;
            let ch = match (state.high_surrogate.take(), code) {
                (None, 0xD800..=0xDBFF) => {
                    state.high_surrogate = Some(code);
                    return Ok(());
                }
                (Some(high), 0xDC00..=0xDFFF) => {
                    let c = 0x10000 + (((high as u32) - 0xD800) << 10) + (code as u32 - 0xDC00);
                    char::from_u32(c)
                }
                (None, c) => char::from_u32(c as u32),
                (Some(_), _) => None,
            }
            .ok_or_else(|| "invalid \\u escape".to_string())?;
            return self.string_char(target, ch, sink);
        }
        if state.escape {
            state.escape = false;
            let ch = match b {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    state.unicode = Some(String::new());
                    return Ok(());
                }
                _ => return Err("invalid escape in a string".into()),
            };
            return self.string_char(target, ch, sink);
        }
        match b {
            b'\\' => {
                state.escape = true;
                Ok(())
            }
            b'"' => {
                if state.high_surrogate.is_some() {
                    return Err("unpaired surrogate in a string".into());
                }
                self.string = None;
                self.end_string(target)
            }
            0..=0x1f => Err("control character in a string".into()),
            _ => {
                if target == StringTarget::Content {
                    return self.content_chars(&[b], sink);
                }
                if self.buf.len() >= MAX_FIELD {
                    return Err(format!("a field is longer than {MAX_FIELD} bytes"));
                }
                self.buf.push(b);
                Ok(())
            }
        }
    }

    fn string_char<S: ContentSink>(
        &mut self,
        target: StringTarget,
        ch: char,
        sink: &mut S,
    ) -> Result<(), String> {
        let mut utf8 = [0u8; 4];
        let encoded = ch.encode_utf8(&mut utf8).as_bytes();
        if target == StringTarget::Content {
            return self.content_chars(encoded, sink);
        }
        if self.buf.len() + encoded.len() > MAX_FIELD {
            return Err(format!("a field is longer than {MAX_FIELD} bytes"));
        }
        self.buf.extend_from_slice(encoded);
        Ok(())
    }

    fn end_string(&mut self, target: StringTarget) -> Result<(), String> {
        match target {
            StringTarget::Content => {
                if !self.b64_tail.is_empty() {
                    return Err("base64 content length is not a multiple of 4".into());
                }
                self.after_value();
            }
            StringTarget::Key => {
                let key = String::from_utf8(std::mem::take(&mut self.buf))
                    .map_err(|_| "a key is not valid UTF-8".to_string())?;
                if let Some((_, slot)) = self.stack.last_mut() {
                    *slot = Some(key);
                }
                self.expect = Expect::Colon;
            }
            StringTarget::Field => {
                let text = String::from_utf8(std::mem::take(&mut self.buf))
                    .map_err(|_| "a string is not valid UTF-8".to_string())?;
                self.record(Value::String(text))?;
                self.after_value();
            }
        }
        Ok(())
    }

    fn end_scalar(&mut self, raw: String) -> Result<(), String> {
        let value: Value =
            serde_json::from_str(&raw).map_err(|_| format!("invalid literal {raw:?}"))?;
        self.record(value)?;
        self.after_value();
        Ok(())
    }

    /// Keeps a scalar by its dotted path (inside arrays, values are not kept).
    fn record(&mut self, value: Value) -> Result<(), String> {
        if self.stack.iter().any(|(c, _)| *c == Container::Array) {
            return Ok(());
        }
        let path = self.value_path();
        if self.line.fields.insert(path.clone(), value).is_some() {
            return Err(format!("duplicate field {path:?}"));
        }
        Ok(())
    }

    /// After a complete value: the container continues, or the line's value is complete.
    fn after_value(&mut self) {
        self.expect = if self.stack.is_empty() {
            Expect::LineEnd
        } else {
            Expect::CommaOrEnd
        };
    }

    fn end_line<S: ContentSink>(
        &mut self,
        sink: &mut S,
        on_line: &mut OnLine<'_, S::Content>,
    ) -> Result<(), String> {
        let line = std::mem::take(&mut self.line);
        self.expect = Expect::Value;
        let content = if line.has_content { sink.take()? } else { None };
        on_line(line, content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        current: Option<Vec<u8>>,
    }

    impl ContentSink for Collect {
        type Content = Vec<u8>;
        fn begin(&mut self) -> Result<(), String> {
            assert!(self.current.is_none(), "the previous content was not taken");
            self.current = Some(Vec::new());
            Ok(())
        }
        fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
            self.current.as_mut().unwrap().extend_from_slice(bytes);
            Ok(())
        }
        fn take(&mut self) -> Result<Option<Vec<u8>>, String> {
            Ok(self.current.take())
        }
    }

    /// Parses `body` fed in chunks of `chunk` bytes.
    fn parse(body: &[u8], chunk: usize) -> Result<(Vec<Line>, Vec<Vec<u8>>), String> {
        let mut parser = LineParser::new();
        let mut sink = Collect::default();
        let mut lines = Vec::new();
        let mut contents = Vec::new();
        let mut on_line = |line: Line, content: Option<Vec<u8>>| {
            lines.push(line);
            contents.extend(content);
            Ok(())
        };
        for piece in body.chunks(chunk.max(1)) {
            parser.push(piece, &mut sink, &mut on_line)?;
        }
        parser.finish(&mut sink, &mut on_line)?;
        Ok((lines, contents))
    }

    fn body_of(lines: &[serde_json::Value]) -> Vec<u8> {
        let mut out = Vec::new();
        for l in lines {
            // Python's json.dumps style, with spaces after separators.
            let text = serde_json::to_string(l)
                .unwrap()
                .replace("\":", "\": ")
                .replace(",\"", ", \"");
            out.extend_from_slice(text.as_bytes());
            out.push(b'\n');
        }
        out
    }

    #[test]
    fn parses_a_commit_in_any_chunking() {
        let data: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let lines = vec![
            serde_json::json!({"key": "header", "value": {"summary": "héllo \u{1F600}", "description": "", "parentCommit": "abc12"}}),
            serde_json::json!({"key": "file", "value": {"content": STANDARD.encode(&data), "path": "a/b.bin", "encoding": "base64"}}),
            serde_json::json!({"key": "lfsFile", "value": {"path": "w.safetensors", "algo": "sha256", "oid": "00", "size": 12583040}}),
            serde_json::json!({"key": "deletedFile", "value": {"path": "old.txt"}}),
            serde_json::json!({"key": "file", "value": {"content": "", "path": "empty.txt", "encoding": "base64"}}),
            serde_json::json!({"key": "file", "value": {"path": "small.txt", "content": "aGk=", "encoding": "base64"}}),
        ];
        let body = body_of(&lines);
        for chunk in [1, 3, 7, 64, 4096, body.len()] {
            let (parsed, contents) = parse(&body, chunk).unwrap();
            assert_eq!(parsed.len(), 6, "chunk {chunk}");
            assert_eq!(parsed[0].str("key"), Some("header"));
            assert_eq!(parsed[0].str("value.summary"), Some("héllo \u{1F600}"));
            assert_eq!(parsed[0].str("value.parentCommit"), Some("abc12"));
            assert!(parsed[1].has_content);
            assert_eq!(parsed[1].str("value.path"), Some("a/b.bin"));
            assert_eq!(parsed[2].fields["value.size"], serde_json::json!(12583040));
            assert_eq!(parsed[3].str("value.path"), Some("old.txt"));
            assert_eq!(contents, vec![data.clone(), Vec::new(), b"hi".to_vec()]);
        }
    }

    #[test]
    fn escapes_and_surrogates_decode() {
        let body = br#"{"key": "header", "value": {"summary": "a\"b\\c\/d\u00e9\ud83d\ude00"}}"#;
        let (lines, _) = parse(body, 5).unwrap();
        assert_eq!(
            lines[0].str("value.summary"),
            Some("a\"b\\c/d\u{e9}\u{1F600}")
        );
    }

    #[test]
    fn refuses_malformed_lines() {
        let bad: &[&[u8]] = &[
            b"{\"key\": \"file\"\n",
            b"{\"key\" \"file\"}\n",
            b"{\"key\": \"file\",}\n",
            b"{\"key\": \"file\"}}\n",
            b"[1, 2\n",
            b"{\"value\": {\"content\": \"abc!\"}}\n",
            b"{\"value\": {\"content\": \"abc\"}}\n",
            b"{\"value\": {\"content\": \"YQ==YQ==\"}}\n",
            b"{\"key\": \"a\", \"key\": \"b\"}\n",
            b"{\"key\": \"\\q\"}\n",
            b"{\"key\": \"\\ud800\"}\n",
            b"{\"key\": nul}\n",
            b"{\"key\": \"\xff\"}\n",
            b"{\"key\": \"unterminated",
            b"{\"a\":[[[[[[[[[[1]]]]]]]]]]}\n",
        ];
        for body in bad {
            assert!(
                parse(body, 2).is_err(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
        let huge = format!("{{\"key\": \"{}\"}}\n", "x".repeat(MAX_FIELD + 1));
        assert!(parse(huge.as_bytes(), 4096).is_err());
    }

    #[test]
    fn blank_lines_and_a_missing_final_newline_are_fine() {
        let (lines, _) = parse(b"\n{\"key\": \"a\"}\n\n{\"key\": \"b\"}", 1).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].str("key"), Some("b"));
    }
}
