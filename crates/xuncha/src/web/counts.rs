//! The queue page's counts by category, computed at most once per filter every
//! [`COUNTS_TTL`] and shared by every user asking meanwhile.
//!
//! Counting a million leads takes the store tens of milliseconds, and a team opens the
//! same queue all day: counted on every page, the counts alone would queue twenty users
//! behind one another. A page's leads are always read fresh; its counts may be a few
//! seconds old, and the page says so. Users asking for the same filter while it is being
//! counted wait for that one count instead of starting their own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;
use xuncha_cases::{Facet, Filter};

use super::{blocking, App, WebError};

/// How long a filter's counts are shown before they are counted again.
pub const COUNTS_TTL: Duration = Duration::from_secs(10);
/// Filters whose counts are kept at once; past this, expired ones are dropped, then all.
const MAX_FILTERS: usize = 512;

type Counts = Vec<(String, u64)>;
/// A filter's counts, once counted, and when they were first asked for.
type Cell = (Instant, Arc<OnceCell<Counts>>);

/// Counts per filter, each with when it was asked for first.
#[derive(Default)]
pub struct CountsCache {
    cells: Mutex<HashMap<String, Cell>>,
}

impl CountsCache {
    /// The counts by category of `filter` (named `key`), counted now or less than
    /// [`COUNTS_TTL`] ago.
    pub async fn by_category(
        &self,
        app: &App,
        key: String,
        filter: Filter,
    ) -> Result<Counts, WebError> {
        let cell = {
            let mut cells = xuncha_core::lock(&self.cells);
            match cells.get(&key) {
                Some((at, cell)) if at.elapsed() < COUNTS_TTL => cell.clone(),
                _ => {
                    if cells.len() >= MAX_FILTERS {
                        cells.retain(|_, (at, _)| at.elapsed() < COUNTS_TTL);
                        if cells.len() >= MAX_FILTERS {
                            cells.clear();
                        }
                    }
                    let cell = Arc::new(OnceCell::new());
                    cells.insert(key, (Instant::now(), cell.clone()));
                    cell
                }
            }
        };
        // A failed count leaves the cell empty: the next request counts again.
        cell.get_or_try_init(|| blocking(app, move |q| q.counts(&filter, Facet::Category)))
            .await
            .cloned()
    }
}
