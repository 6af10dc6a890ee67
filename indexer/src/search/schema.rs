//! The index schema.

use tantivy::schema::{
    FAST, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};

use super::analyzer::NAME_TOKENIZER;

/// Bump when the schema or analysis changes: an index of another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 3;

#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub repo_id: Field,
    pub kind: Field,
    pub id: Field,
    pub owner: Field,
    pub owner_id: Field,
    pub private: Field,
    /// `owner/name`, name-tokenized.
    pub name: Field,
    /// Tags as words (default tokenizer), for free text.
    pub tags_text: Field,
    pub body: Field,
    /// Tags as exact terms, for filters.
    pub tags: Field,
    /// `/license/mit`, `/language/de`, … for facet filters and counts.
    pub facets: Field,
    pub parameters: Field,
    pub downloads: Field,
    pub likes: Field,
    pub created: Field,
    pub updated: Field,
    pub trending: Field,
}

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let fields = Fields {
        repo_id: b.add_u64_field("repo_id", INDEXED | FAST | STORED),
        kind: b.add_text_field("kind", STRING),
        id: b.add_text_field("id", STRING | STORED | FAST),
        owner: b.add_text_field("owner", STRING),
        owner_id: b.add_u64_field("owner_id", INDEXED),
        private: b.add_u64_field("private", INDEXED),
        name: b.add_text_field("name", text(NAME_TOKENIZER)),
        tags_text: b.add_text_field("tags_text", text("default")),
        body: b.add_text_field("body", text("en_stem")),
        tags: b.add_text_field("tags", STRING),
        facets: b.add_facet_field("facets", FacetOptions::default()),
        parameters: b.add_u64_field("parameters", INDEXED | FAST),
        downloads: b.add_u64_field("downloads", FAST),
        likes: b.add_u64_field("likes", FAST),
        created: b.add_i64_field("created", INDEXED | FAST),
        updated: b.add_i64_field("updated", INDEXED | FAST),
        trending: b.add_f64_field("trending", FAST),
    };
    (b.build(), fields)
}
