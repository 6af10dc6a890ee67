//! The search index: a tantivy index on disk (or in memory for tests), one writer, a reader
//! reloaded after each commit. Every commit carries a payload (the change-log position it
//! includes), so the index and the position are saved atomically together.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use tantivy::Order;
use tantivy::collector::sort_key::SortByStaticFastValue;
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query};
use tantivy::schema::{Facet, Schema};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use super::analyzer::{NAME_TOKENIZER, NameTokenizer};
use super::doc::{SearchDoc, markdown_text};
use super::query::{self, MAX_LIMIT, MAX_OFFSET, QueryError, SearchRequest, Sort, Visibility};
use super::schema::{self, Fields, SCHEMA_VERSION};

/// Writer memory budget (tantivy splits it across its indexing threads).
const WRITER_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Directory(String),
    #[error("search index was built with schema version {found}, this hub uses {SCHEMA_VERSION}")]
    OldSchema { found: String },
}

impl IndexError {
    /// True when another writer (another process) holds the index directory.
    pub fn is_locked(&self) -> bool {
        matches!(
            self,
            IndexError::Tantivy(tantivy::TantivyError::LockFailure(..))
        )
    }
}

/// One result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub repo_id: u64,
    pub id: String,
    pub score: f32,
}

#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    /// The number of matches, when the request asked for it (`want_total`).
    pub total: Option<usize>,
    /// True when there are matches after this page.
    pub more: bool,
    pub hits: Vec<Hit>,
    /// facet field -> [(value, count)], most frequent first.
    pub facets: BTreeMap<String, Vec<(String, u64)>>,
}

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

/// The payload saved with each commit: schema version and change-log position.
fn payload(seq: i64) -> String {
    format!("v{SCHEMA_VERSION}:{seq}")
}

impl SearchIndex {
    fn wrap(index: Index, fields: Fields) -> Result<SearchIndex, IndexError> {
        index.tokenizers().register(
            NAME_TOKENIZER,
            tantivy::tokenizer::TextAnalyzer::from(NameTokenizer::default()),
        );
        let writer = index.writer_with_num_threads(1, WRITER_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
        })
    }

    /// An empty index in memory.
    pub fn in_memory() -> Result<SearchIndex, IndexError> {
        let (schema, fields) = schema::build();
        Self::wrap(Index::create_in_ram(schema), fields)
    }

    /// Opens the index in `dir`, or creates an empty one there. Returns the index and the
    /// change-log position it includes (`None` for a new index). An index that does not open,
    /// or was built with another schema, is an error: the caller rebuilds it.
    pub fn open_or_create(dir: &Path) -> Result<(SearchIndex, Option<i64>), IndexError> {
        std::fs::create_dir_all(dir).map_err(|e| IndexError::Directory(e.to_string()))?;
        let (schema, fields) = schema::build();
        let exists = dir.join("meta.json").exists();
        let index = if exists {
            Index::open_in_dir(dir)?
        } else {
            Index::create_in_dir(dir, schema.clone())?
        };
        if index.schema() != schema {
            return Err(IndexError::OldSchema {
                found: "unknown".into(),
            });
        }
        let metas = index.load_metas()?;
        let position = match metas.payload.as_deref() {
            None => None,
            Some(p) => {
                let (version, seq) = p.split_once(':').unwrap_or(("", ""));
                if version != format!("v{SCHEMA_VERSION}") {
                    return Err(IndexError::OldSchema {
                        found: version.to_string(),
                    });
                }
                seq.parse().ok()
            }
        };
        Ok((Self::wrap(index, fields)?, position))
    }

    /// Removes the index directory (to rebuild it).
    pub fn destroy(dir: &Path) -> Result<(), IndexError> {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(IndexError::Directory(e.to_string())),
        }
    }

    fn to_document(&self, d: &SearchDoc, body_markdown: &str) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.repo_id, d.repo_id);
        doc.add_text(f.kind, &d.kind);
        doc.add_text(f.id, &d.id);
        doc.add_text(f.owner, d.owner.to_ascii_lowercase());
        doc.add_u64(f.owner_id, d.owner_id);
        doc.add_u64(f.private, u64::from(d.private));
        doc.add_text(f.name, &d.id);
        doc.add_text(f.body, markdown_text(body_markdown));
        for t in &d.tags {
            doc.add_text(f.tags, t);
            doc.add_text(f.tags_text, t);
            doc.add_facet(f.facets, Facet::from_path(["tag", t.as_str()]));
        }
        let mut facet = |field: &str, value: &str| {
            if !value.is_empty() {
                doc.add_facet(f.facets, Facet::from_path([field, value]));
            }
        };
        for l in &d.licenses {
            facet("license", l);
        }
        for l in &d.languages {
            facet("language", l);
        }
        if let Some(p) = &d.pipeline_tag {
            facet("pipeline_tag", p);
        }
        if let Some(l) = &d.library {
            facet("library", l);
        }
        for ds in &d.datasets {
            facet("dataset", ds);
        }
        for b in &d.base_models {
            facet("base_model", b);
        }
        if let Some(r) = &d.relation {
            facet("relation", r);
        }
        facet("author", &d.owner.to_ascii_lowercase());
        if let Some(p) = d.parameters {
            doc.add_u64(f.parameters, p);
        }
        doc.add_u64(f.downloads, d.downloads);
        doc.add_u64(f.likes, d.likes);
        doc.add_i64(f.created, d.created);
        doc.add_i64(f.updated, d.updated);
        doc.add_f64(f.trending, trending_score(d));
        doc
    }

    /// Replaces the documents of these repos (body markdown alongside each), and deletes the
    /// documents of `deleted`. Not visible until [`SearchIndex::commit`].
    pub fn apply(
        &self,
        upserts: &[(SearchDoc, String)],
        deleted: &[u64],
    ) -> Result<(), IndexError> {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        for id in deleted {
            writer.delete_term(Term::from_field_u64(self.fields.repo_id, *id));
        }
        for (d, body) in upserts {
            writer.delete_term(Term::from_field_u64(self.fields.repo_id, d.repo_id));
            writer.add_document(self.to_document(d, body))?;
        }
        Ok(())
    }

    /// Deletes every document (before a rebuild).
    pub fn clear(&self) -> Result<(), IndexError> {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.delete_all_documents()?;
        Ok(())
    }

    /// Commits with the change-log position included, and makes the changes searchable.
    pub fn commit(&self, position: i64) -> Result<(), IndexError> {
        {
            let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&payload(position));
            prepared.commit()?;
        }
        self.reader.reload()?;
        Ok(())
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// A hit's repo id and `owner/name`, read from fast fields (columnar, no document store
    /// decompression per hit).
    fn hit(
        &self,
        searcher: &tantivy::Searcher,
        addr: DocAddress,
        score: f32,
    ) -> Result<Hit, IndexError> {
        let segment = searcher.segment_reader(addr.segment_ord);
        let fast = segment.fast_fields();
        let repo_id = fast.u64("repo_id")?.first(addr.doc_id).unwrap_or(0);
        let mut id = String::new();
        if let Some(col) = fast.str("id")?
            && let Some(ord) = col.term_ords(addr.doc_id).next()
        {
            col.ord_to_str(ord, &mut id)
                .map_err(|e| IndexError::Directory(e.to_string()))?;
        }
        Ok(Hit { repo_id, id, score })
    }

    /// Runs a search. Words match exactly (and the last one as a prefix); only when that finds
    /// nothing at all does the search run again with typo tolerance, which is slower.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults, QueryError> {
        if req.limit == 0 || req.limit > MAX_LIMIT {
            return Err(QueryError::BadLimit);
        }
        if req.offset > MAX_OFFSET {
            return Err(QueryError::TooDeep);
        }
        for field in &req.count_facets {
            if !super::FACET_FIELDS.contains(&field.as_str()) {
                return Err(QueryError::UnknownFacet(field.clone()));
            }
        }
        let searcher = self.reader.searcher();
        let exact = query::build(&self.index, &self.fields, req, false)?;
        let results = self.run(&searcher, exact.as_ref(), req)?;
        let has_text = req.text.as_deref().is_some_and(|t| !t.trim().is_empty());
        if !results.hits.is_empty() || !has_text {
            return Ok(results);
        }
        let exact_found_nothing = req.offset == 0
            || searcher
                .search(exact.as_ref(), &TopDocs::with_limit(1).order_by_score())
                .map_err(|e| QueryError::Engine(e.to_string()))?
                .is_empty();
        if !exact_found_nothing {
            return Ok(results);
        }
        let fuzzy = query::build(&self.index, &self.fields, req, true)?;
        self.run(&searcher, fuzzy.as_ref(), req)
    }

    fn run(
        &self,
        searcher: &tantivy::Searcher,
        q: &dyn Query,
        req: &SearchRequest,
    ) -> Result<SearchResults, QueryError> {
        let engine = |e: tantivy::TantivyError| QueryError::Engine(e.to_string());
        // One hit more than the page tells whether there is a next page without counting.
        let top = TopDocs::with_limit(req.limit + 1).and_offset(req.offset);
        let by_id = (
            SortByStaticFastValue::<u64>::for_field("repo_id"),
            Order::Desc,
        );
        let fast_u64 = |name: &str| (SortByStaticFastValue::<u64>::for_field(name), Order::Desc);
        let count = req.want_total.then_some(Count);
        let facets = (!req.count_facets.is_empty()).then(|| {
            let mut c = FacetCollector::for_field("facets");
            for field in &req.count_facets {
                c.add_facet(Facet::from_path([field.as_str()]));
            }
            c
        });
        // (doc, score) in rank order, the total when asked for, the facet counts when asked for.
        let (docs, total, counts): (
            Vec<(DocAddress, f32)>,
            Option<usize>,
            Option<tantivy::collector::FacetCounts>,
        ) = match req.sort {
            // Score alone: tantivy can then skip blocks that cannot make the top (WAND).
            Sort::Relevance => {
                let (d, t, c) = searcher
                    .search(q, &(top.order_by_score(), count, facets))
                    .map_err(engine)?;
                (d.into_iter().map(|(s, a)| (a, s)).collect(), t, c)
            }
            Sort::Trending => {
                let key = (
                    SortByStaticFastValue::<f64>::for_field("trending"),
                    Order::Desc,
                );
                let (d, t, c) = searcher
                    .search(q, &(top.order_by((key, by_id)), count, facets))
                    .map_err(engine)?;
                (d.into_iter().map(|(_, a)| (a, 0.0)).collect(), t, c)
            }
            Sort::Created | Sort::Updated => {
                let name = if req.sort == Sort::Created {
                    "created"
                } else {
                    "updated"
                };
                let key = (SortByStaticFastValue::<i64>::for_field(name), Order::Desc);
                let (d, t, c) = searcher
                    .search(q, &(top.order_by((key, by_id)), count, facets))
                    .map_err(engine)?;
                (d.into_iter().map(|(_, a)| (a, 0.0)).collect(), t, c)
            }
            Sort::Downloads | Sort::Likes => {
                let name = if req.sort == Sort::Downloads {
                    "downloads"
                } else {
                    "likes"
                };
                let (d, t, c) = searcher
                    .search(q, &(top.order_by((fast_u64(name), by_id)), count, facets))
                    .map_err(engine)?;
                (d.into_iter().map(|(_, a)| (a, 0.0)).collect(), t, c)
            }
        };
        let more = docs.len() > req.limit;
        let mut hits = Vec::with_capacity(req.limit.min(docs.len()));
        for (addr, score) in docs.into_iter().take(req.limit) {
            hits.push(
                self.hit(searcher, addr, score)
                    .map_err(|e| QueryError::Engine(e.to_string()))?,
            );
        }
        let mut facet_out = BTreeMap::new();
        if let Some(counts) = counts {
            for field in &req.count_facets {
                let prefix = Facet::from_path([field.as_str()]);
                let mut values: Vec<(String, u64)> = counts
                    .get(&prefix.to_path_string())
                    .map(|(facet, n)| {
                        let path = facet.to_path();
                        (path.get(1).map(|s| s.to_string()).unwrap_or_default(), n)
                    })
                    .collect();
                values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                values.truncate(50);
                facet_out.insert(field.clone(), values);
            }
        }
        Ok(SearchResults {
            total,
            more,
            hits,
            facets: facet_out,
        })
    }

    /// Names and tags starting with `prefix`, for the search box: most downloaded first.
    pub fn suggest(
        &self,
        kind: &str,
        prefix: &str,
        visibility: &Visibility,
        limit: usize,
    ) -> Result<Vec<Hit>, QueryError> {
        let prefix = prefix.trim().to_lowercase();
        if prefix.is_empty() || prefix.len() > 100 {
            return Ok(Vec::new());
        }
        let f = &self.fields;
        let last = prefix
            .split(|c: char| !c.is_alphanumeric())
            .rfind(|s| !s.is_empty())
            .unwrap_or("");
        if last.is_empty() {
            return Ok(Vec::new());
        }
        let prefix_q = |field| -> Box<dyn Query> {
            Box::new(FuzzyTermQuery::new_prefix(
                Term::from_field_text(field, last),
                0,
                true,
            ))
        };
        let text: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
            (
                Occur::Should,
                Box::new(BoostQuery::new(prefix_q(f.name), 2.0)) as Box<dyn Query>,
            ),
            (Occur::Should, prefix_q(f.tags_text)),
        ]));
        let base = SearchRequest {
            kind: kind.to_string(),
            visibility: visibility.clone(),
            limit: 1,
            ..Default::default()
        };
        let filters = query::build(&self.index, f, &base, false)?;
        let q = BooleanQuery::new(vec![(Occur::Must, text), (Occur::Must, filters)]);
        let searcher = self.reader.searcher();
        let c = TopDocs::with_limit(limit.clamp(1, 20)).order_by((
            (
                SortByStaticFastValue::<u64>::for_field("downloads"),
                Order::Desc,
            ),
            (
                SortByStaticFastValue::<u64>::for_field("repo_id"),
                Order::Desc,
            ),
        ));
        let docs = searcher
            .search(&q, &c)
            .map_err(|e| QueryError::Engine(e.to_string()))?;
        docs.into_iter()
            .map(|(_, addr)| {
                self.hit(&searcher, addr, 0.0)
                    .map_err(|e| QueryError::Engine(e.to_string()))
            })
            .collect()
    }

    pub fn schema(&self) -> Schema {
        self.index.schema()
    }
}

/// Popularity that fades with age: (downloads + 10 x likes) / (age in days + 2)^1.5, computed
/// when the document is written (so it is as fresh as the last change to the repo).
pub fn trending_score(d: &SearchDoc) -> f64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.as_millis() as i64)
        .unwrap_or(0);
    let age_days = ((now - d.updated).max(0) as f64) / 86_400_000.0;
    (d.downloads as f64 + 10.0 * d.likes as f64) / (age_days + 2.0).powf(1.5)
}
