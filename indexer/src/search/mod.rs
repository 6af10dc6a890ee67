//! Search over model and dataset cards with tantivy: the document, the name analyzer, the query
//! translation (literal free text, filters, facets, visibility) and the index.

pub mod analyzer;
pub mod doc;
pub mod index;
pub mod query;
pub mod schema;

pub use doc::SearchDoc;
pub use index::{Hit, IndexError, SearchIndex, SearchResults};
pub use query::{FacetFilter, QueryError, SearchRequest, Sort, Visibility};

/// The facet fields documents carry and searches can filter and count on.
pub const FACET_FIELDS: &[&str] = &[
    "license",
    "language",
    "pipeline_tag",
    "library",
    "dataset",
    "base_model",
    "relation",
    "author",
    "tag",
];
