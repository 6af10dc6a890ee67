//! A small reader for the Prometheus text exposition format.

use std::collections::BTreeMap;

/// One sample line: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Sample {
    /// True when every `(key, value)` in `want` is among the sample's labels.
    pub fn has_labels(&self, want: &[(&str, &str)]) -> bool {
        want.iter()
            .all(|(k, v)| self.labels.get(*k).map(String::as_str) == Some(*v))
    }
}

/// Parses every sample line of `text`; comment lines are skipped. Panics on a malformed line.
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| parse_line(line).unwrap_or_else(|| panic!("malformed metrics line: {line:?}")))
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' ']).unwrap_or(line.len());
    let name = line[..name_end].to_string();
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        let mut chars = after.char_indices();
        let mut key = String::new();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '}' if key.trim().is_empty() => break i + 1,
                ',' | ' ' if key.is_empty() => {}
                '=' => {
                    if chars.next()?.1 != '"' {
                        return None;
                    }
                    let mut value = String::new();
                    loop {
                        match chars.next()?.1 {
                            '\\' => match chars.next()?.1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            '"' => break,
                            other => value.push(other),
                        }
                    }
                    labels.insert(std::mem::take(&mut key).trim().to_string(), value);
                }
                other => key.push(other),
            }
        };
        rest = &after[end..];
    }
    let value_text = rest.split_whitespace().next()?;
    let value = match value_text {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().ok()?,
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// The samples named `name` whose labels include `labels`.
pub fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Vec<&'a Sample> {
    samples
        .iter()
        .filter(|s| s.name == name && s.has_labels(labels))
        .collect()
}

/// The sum of the samples named `name` whose labels include `labels` (0 if none).
pub fn sum(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    find(samples, name, labels).iter().map(|s| s.value).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_labels_and_values() {
        let text = "# HELP x y\n# TYPE x counter\n\
                    grove_http_requests_total{method=\"GET\",route=\"/api/tokens/{id}\",status=\"200\"} 3\n\
                    plain 1.5\n\
                    h_bucket{le=\"+Inf\"} 2\n\
                    esc{a=\"x\\\"y,z\"} 1e3\n";
        let s = parse(text);
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].labels["route"], "/api/tokens/{id}");
        assert_eq!(s[0].value, 3.0);
        assert_eq!(s[1].name, "plain");
        assert!(s[1].labels.is_empty());
        assert_eq!(s[2].labels["le"], "+Inf");
        assert_eq!(s[3].labels["a"], "x\"y,z");
        assert_eq!(s[3].value, 1000.0);
        assert_eq!(
            sum(&s, "grove_http_requests_total", &[("method", "GET")]),
            3.0
        );
        assert_eq!(
            sum(&s, "grove_http_requests_total", &[("method", "PUT")]),
            0.0
        );
    }
}
