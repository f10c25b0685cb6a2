//! Campaigns: leads whose postings share a contact handle, a company, a credit code or
//! near-identical text, grouped as they are filed.
//!
//! Postings are the elements of a union-find kept in the database: each is in one
//! campaign (`campaign_postings`), and every key it carries is indexed (`campaign_keys`).
//! A posting filed with a key another posting has joins that posting's campaign; one that
//! holds keys of two campaigns merges them, the smaller into the larger, and the merge is
//! an event. Nothing is recomputed but the campaigns a filing touches.
//!
//! The invariant: every key not marked too common has all its postings in one campaign.
//! So one look-up a key finds the campaign, and a key that turns out too common (seen with
//! more than the bound of distinct publishers: a site's hotline, a platform's address)
//! splits the one campaign it glued, along the keys that remain, and is ignored from then
//! on. Near-identical text is a key too: a posting takes the text key of the most similar
//! text at least [`xuncha_campaigns::MIN_SIMILARITY`] alike, found through its MinHash
//! signature's bands, or makes a new one.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use serde::Serialize;
use xuncha_campaigns::{bands, from_hex, publisher_of, similarity, Signature, MIN_SIMILARITY};
use xuncha_core::{Lead, PostingRef};

use crate::db::{col, Tx, Value};
use crate::events::{self, Change, Event};
use crate::queue::{CaseQueue, Filter};

/// How many distinct publishers a key may be seen with before it is too common to tie
/// postings together, unless the store is told otherwise.
pub const DEFAULT_MAX_PUBLISHERS_PER_KEY: usize = 100;

/// The most leads of one campaign read for a listing or a page (its counts are whole).
pub const MAX_MEMBER_LEADS: usize = 1000;

/// The most leads assigned at once with a campaign.
pub const MAX_ASSIGN_LEADS: usize = 10_000;

/// Postings compared per fingerprint band when a posting's text is looked up.
const CANDIDATES_PER_BAND: usize = 64;

/// The most keys and evidence rows shown of one campaign.
const MAX_KEYS_SHOWN: usize = 100;

/// Advisory lock that serialises grouping on PostgreSQL (two filers at once must not both
/// start a campaign for one key).
const GROUPING_LOCK: i64 = 0x7875_6e63_6863_6d70;

/// A key shared by postings of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignKey {
    /// `kind:value`, or `text:…` for near-identical text.
    pub key: String,
    /// Postings of the campaign that carry it.
    pub postings: u64,
    /// Whether it is too common to tie anything (it ties nothing, and is shown so).
    pub too_common: bool,
}

/// Leads of a campaign in one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryCount {
    /// The category.
    pub category: String,
    /// How many leads.
    pub leads: u64,
}

/// A campaign as listed: its size, span in time, what ties it, where and what.
#[derive(Debug, Clone, Serialize)]
pub struct Campaign {
    /// Its id.
    pub id: i64,
    /// Postings in it.
    pub postings: u64,
    /// Leads of those postings.
    pub leads: u64,
    /// The earliest first sighting of its leads.
    pub first_seen: String,
    /// The latest sighting.
    pub last_seen: String,
    /// The keys more than one of its postings carry, most shared first.
    pub keys: Vec<CampaignKey>,
    /// Its sites (postings' `source`).
    pub sites: Vec<String>,
    /// Its leads by category.
    pub categories: Vec<CategoryCount>,
    /// A posting title, for a reader.
    pub title: Option<String>,
    /// Its lead ids, oldest first, at most [`MAX_MEMBER_LEADS`].
    pub lead_ids: Vec<String>,
    /// The postings of those leads.
    pub posting_ids: Vec<String>,
    /// Whether the ids are cut at [`MAX_MEMBER_LEADS`].
    pub truncated: bool,
}

/// A lead of a campaign's posting, as its page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct MemberLead {
    /// The lead.
    pub lead_id: String,
    /// Its category.
    pub category: String,
    /// Its severity.
    pub severity: String,
    /// Its status.
    pub status: String,
    /// Its assignee.
    pub assigned_to: Option<String>,
}

/// A posting of a campaign.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    /// What the leads recorded of the posting.
    pub posting: PostingRef,
    /// First sighting of its leads.
    pub first_seen: String,
    /// Last sighting.
    pub last_seen: String,
    /// Its leads.
    pub leads: Vec<MemberLead>,
}

/// One handle as written in one posting: the evidence for a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Written {
    /// `kind:value`.
    pub key: String,
    /// The posting.
    pub posting_id: String,
    /// The field.
    pub field: String,
    /// First byte in the original field.
    pub start: i64,
    /// One past the last.
    pub end: i64,
    /// The original text.
    pub text: String,
}

/// Something that happened to a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignEvent {
    /// When.
    pub at: String,
    /// Who (`scan` for grouping).
    pub actor: String,
    /// `merged` (another campaign joined this one), `split` (a key turned out too common
    /// and part of this one became another), `assign` (its leads were assigned).
    pub action: String,
    /// The other campaign of a merge or split.
    pub other: Option<i64>,
    /// The key that merged, or the too common key that split.
    pub key: Option<String>,
    /// The assignee, or a note.
    pub note: Option<String>,
}

/// A lead assigned with its campaign, and the events that wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assigned {
    /// The lead.
    pub lead_id: String,
    /// What changed (none if it was already so assigned).
    pub events: Vec<Event>,
}

/// A campaign's page: the listing plus its postings, the evidence of its keys and its
/// history.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignDetail {
    /// The campaign.
    #[serde(flatten)]
    pub campaign: Campaign,
    /// Its postings (those of the leads read), oldest first.
    pub members: Vec<Member>,
    /// Every key of its postings with how many carry it, most shared first.
    pub all_keys: Vec<CampaignKey>,
    /// How each key was written, at most a few per key.
    pub evidence: Vec<Written>,
    /// Its merges, splits and assignments.
    pub events: Vec<CampaignEvent>,
}

/// Which campaigns to list.
#[derive(Debug, Clone)]
pub struct CampaignQuery {
    /// Only campaigns of at least this many postings (default 2: one posting alone is no
    /// campaign).
    pub min_postings: u64,
    /// Only campaigns holding a lead this filter matches.
    pub leads: Option<Filter>,
    /// At most this many, largest first.
    pub limit: usize,
    /// Skip this many (the next page).
    pub offset: usize,
}

impl Default for CampaignQuery {
    fn default() -> CampaignQuery {
        CampaignQuery {
            min_postings: 2,
            leads: None,
            limit: 50,
            offset: 0,
        }
    }
}

/// Takes the grouping lock of a filing transaction (PostgreSQL; SQLite's write lock, taken
/// when the transaction began, already serialises filings).
pub(crate) fn lock(tx: &mut dyn Tx, postgres: bool) -> anyhow::Result<()> {
    if postgres {
        tx.exec("SELECT pg_advisory_xact_lock($1)", &[GROUPING_LOCK.into()])?;
    }
    Ok(())
}

fn scalar_int(tx: &mut dyn Tx, sql: &str, args: &[Value]) -> anyhow::Result<Option<i64>> {
    tx.query_opt(sql, args)?
        .map(|mut r| col(&mut r)?.int())
        .transpose()
}

fn campaign_of_posting(tx: &mut dyn Tx, posting_id: &str) -> anyhow::Result<Option<i64>> {
    scalar_int(
        tx,
        "SELECT campaign_id FROM campaign_postings WHERE posting_id = $1",
        &[posting_id.into()],
    )
}

fn is_common(tx: &mut dyn Tx, key: &str) -> anyhow::Result<bool> {
    Ok(tx
        .query_opt("SELECT 1 FROM common_keys WHERE key = $1", &[key.into()])?
        .is_some())
}

/// Puts a filed lead's posting in its campaign: joins the campaign of any posting that
/// shares a key, merges the campaigns it links, or starts one. `new_lead` is false for a
/// lead seen again, which only moves its campaign's `last_seen` when its posting is
/// already placed.
pub(crate) fn place(
    tx: &mut dyn Tx,
    lead: &Lead,
    at: &str,
    max_publishers: usize,
    new_lead: bool,
) -> anyhow::Result<()> {
    let p = &lead.posting;
    let placed = campaign_of_posting(tx, &p.id)?;
    if let (Some(c), false) = (placed, new_lead) {
        return widen(tx, c, at, at);
    }
    for h in &p.handles {
        tx.exec(
            "INSERT INTO posting_handles (posting_id, key, kind, value, field, start_byte, end_byte, written)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            &[
                (&p.id).into(),
                h.key().into(),
                h.kind.as_str().into(),
                (&h.value).into(),
                (&h.field).into(),
                (h.span.start() as i64).into(),
                (h.span.end() as i64).into(),
                (&h.text).into(),
            ],
        )?;
    }
    let mut keys = xuncha_campaigns::keys(p);
    if let Some(sig) = p.minhash.as_deref().and_then(from_hex) {
        keys.push(text_key(
            tx,
            &p.id,
            &sig,
            p.minhash.as_deref().unwrap_or_default(),
        )?);
    }
    let mut fresh = Vec::new();
    for k in keys {
        let n = tx.exec(
            "INSERT INTO campaign_keys (key, posting_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[(&k).into(), (&p.id).into()],
        )?;
        if n == 1 {
            fresh.push(k);
        }
    }
    // Count the publishers of each key first: one that turns too common now must not
    // link this posting.
    let publisher = publisher_of(p);
    let mut linking = Vec::new();
    for k in fresh {
        if is_common(tx, &k)? {
            continue;
        }
        let added = tx.exec(
            "INSERT INTO key_publishers (key, publisher) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[(&k).into(), (&publisher).into()],
        )?;
        if added == 1 {
            let n = scalar_int(
                tx,
                "SELECT COUNT(*) FROM key_publishers WHERE key = $1",
                &[(&k).into()],
            )?
            .unwrap_or(0);
            if n as usize > max_publishers {
                tx.exec(
                    "INSERT INTO common_keys (key, publishers, marked_at) VALUES ($1, $2, $3)",
                    &[(&k).into(), n.into(), at.into()],
                )?;
                split(tx, &k, at)?;
                continue;
            }
        }
        linking.push(k);
    }
    // A split may have moved this posting, if it was placed already.
    let placed = match placed {
        Some(_) => campaign_of_posting(tx, &p.id)?,
        None => None,
    };
    // The campaign of each linking key (one per key, by the invariant).
    let mut targets: Vec<(i64, Option<String>)> = placed.map(|c| (c, None)).into_iter().collect();
    for k in linking {
        let found = scalar_int(
            tx,
            "SELECT cp.campaign_id FROM campaign_keys ck
             JOIN campaign_postings cp ON cp.posting_id = ck.posting_id
             WHERE ck.key = $1 AND ck.posting_id <> $2 LIMIT 1",
            &[(&k).into(), (&p.id).into()],
        )?;
        if let Some(c) = found.filter(|c| !targets.iter().any(|t| t.0 == *c)) {
            targets.push((c, Some(k)));
        }
    }
    let winner = match targets.len() {
        0 => {
            let id = create(tx, at)?;
            tx.exec(
                "INSERT INTO campaign_postings (posting_id, campaign_id, joined_at) VALUES ($1, $2, $3)",
                &[(&p.id).into(), id.into(), at.into()],
            )?;
            tx.exec(
                "UPDATE campaigns SET postings = 1 WHERE id = $1",
                &[id.into()],
            )?;
            return Ok(());
        }
        1 => targets[0].0,
        _ => {
            // Union by size: the fewest postings move.
            let mut sized = Vec::new();
            for (c, _) in &targets {
                let n = scalar_int(
                    tx,
                    "SELECT postings FROM campaigns WHERE id = $1",
                    &[(*c).into()],
                )?
                .unwrap_or(0);
                sized.push((n, *c));
            }
            let (_, w) = sized
                .iter()
                .copied()
                .max_by_key(|(n, c)| (*n, std::cmp::Reverse(*c)))
                .context("no campaign to merge into")?;
            for (c, key) in &targets {
                if *c != w {
                    merge(tx, *c, w, key.as_deref(), at)?;
                }
            }
            w
        }
    };
    if placed.is_none() {
        tx.exec(
            "INSERT INTO campaign_postings (posting_id, campaign_id, joined_at) VALUES ($1, $2, $3)",
            &[(&p.id).into(), winner.into(), at.into()],
        )?;
        tx.exec(
            "UPDATE campaigns SET postings = postings + 1 WHERE id = $1",
            &[winner.into()],
        )?;
    }
    widen(tx, winner, at, at)
}

/// Moves a campaign's first and last sighting out to take in `[first, last]`.
fn widen(tx: &mut dyn Tx, id: i64, first: &str, last: &str) -> anyhow::Result<()> {
    // Times are text of one form, so the later of two is the greater string.
    tx.exec(
        "UPDATE campaigns SET
            first_seen = CASE WHEN $2 < first_seen THEN $2 ELSE first_seen END,
            last_seen = CASE WHEN $3 > last_seen THEN $3 ELSE last_seen END
         WHERE id = $1",
        &[id.into(), first.into(), last.into()],
    )?;
    Ok(())
}

fn create(tx: &mut dyn Tx, at: &str) -> anyhow::Result<i64> {
    let mut row = tx
        .query_opt(
            "INSERT INTO campaigns (created_at, first_seen, last_seen, postings)
             VALUES ($1, $1, $1, 0) RETURNING id",
            &[at.into()],
        )?
        .context("creating a campaign returned no id")?;
    col(&mut row)?.int()
}

fn event(tx: &mut dyn Tx, campaign: i64, e: CampaignEvent) -> anyhow::Result<()> {
    tx.exec(
        "INSERT INTO campaign_events (campaign_id, at, actor, action, other, key, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            campaign.into(),
            e.at.into(),
            e.actor.into(),
            e.action.into(),
            e.other.into(),
            e.key.into(),
            e.note.into(),
        ],
    )?;
    Ok(())
}

/// A grouping event (merge or split), as the scan's.
fn grouping(at: &str, action: &str, other: i64, key: Option<&str>) -> CampaignEvent {
    CampaignEvent {
        at: at.into(),
        actor: "scan".into(),
        action: action.into(),
        other: Some(other),
        key: key.map(str::to_string),
        note: None,
    }
}

/// Moves every posting of `from` into `into`; `from` is kept, pointing at `into` (and so
/// does every campaign that pointed at `from`, so no chain grows).
fn merge(tx: &mut dyn Tx, from: i64, into: i64, key: Option<&str>, at: &str) -> anyhow::Result<()> {
    let mut row = tx
        .query_opt(
            "SELECT postings, first_seen, last_seen FROM campaigns WHERE id = $1",
            &[from.into()],
        )?
        .with_context(|| format!("campaign {from} vanished during a merge"))?;
    let (n, first, last) = (
        col(&mut row)?.int()?,
        col(&mut row)?.text()?,
        col(&mut row)?.text()?,
    );
    tx.exec(
        "UPDATE campaign_postings SET campaign_id = $2 WHERE campaign_id = $1",
        &[from.into(), into.into()],
    )?;
    tx.exec(
        "UPDATE campaigns SET merged_into = $2, postings = 0 WHERE id = $1 OR merged_into = $1",
        &[from.into(), into.into()],
    )?;
    tx.exec(
        "UPDATE campaigns SET postings = postings + $2 WHERE id = $1",
        &[into.into(), n.into()],
    )?;
    widen(tx, into, &first, &last)?;
    event(tx, into, grouping(at, "merged", from, key))
}

/// The text key of a posting's signature: that of the most similar text at least
/// [`MIN_SIMILARITY`] alike among those sharing a band, else a new one (`text:` and the
/// signature's first positions).
fn text_key(
    tx: &mut dyn Tx,
    posting_id: &str,
    sig: &Signature,
    hex: &str,
) -> anyhow::Result<String> {
    if let Some(mut r) = tx.query_opt(
        "SELECT text_key FROM posting_texts WHERE posting_id = $1",
        &[posting_id.into()],
    )? {
        return col(&mut r)?.text();
    }
    let mut best: Option<(f64, String)> = None;
    for band in bands(sig) {
        let rows = tx.query(
            &format!(
                "SELECT pt.signature, pt.text_key FROM text_bands tb
                 JOIN posting_texts pt ON pt.posting_id = tb.posting_id
                 WHERE tb.band = $1 LIMIT {CANDIDATES_PER_BAND}"
            ),
            &[band.into()],
        )?;
        for mut r in rows {
            let Some(other) = from_hex(&col(&mut r)?.text()?) else {
                continue;
            };
            let key = col(&mut r)?.text()?;
            let alike = similarity(sig, &other);
            let better = best
                .as_ref()
                .is_none_or(|b| alike > b.0 || alike == b.0 && key < b.1);
            if alike >= MIN_SIMILARITY && better {
                best = Some((alike, key));
            }
        }
    }
    let key = best.map_or_else(|| format!("text:{posting_id}"), |b| b.1);
    tx.exec(
        "INSERT INTO posting_texts (posting_id, signature, text_key) VALUES ($1, $2, $3)",
        &[posting_id.into(), hex.into(), (&key).into()],
    )?;
    for band in bands(sig) {
        tx.exec(
            "INSERT INTO text_bands (band, posting_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[band.into(), posting_id.into()],
        )?;
    }
    Ok(key)
}

/// A key has just been found too common: the campaign its postings are in is cut along
/// the keys that remain. The largest part keeps the campaign; each other part becomes a
/// new one, and the split is an event.
fn split(tx: &mut dyn Tx, key: &str, at: &str) -> anyhow::Result<()> {
    let Some(c) = scalar_int(
        tx,
        "SELECT cp.campaign_id FROM campaign_keys ck
         JOIN campaign_postings cp ON cp.posting_id = ck.posting_id
         WHERE ck.key = $1 LIMIT 1",
        &[key.into()],
    )?
    else {
        return Ok(());
    };
    let members: Vec<String> = tx
        .query(
            "SELECT posting_id FROM campaign_postings WHERE campaign_id = $1 ORDER BY posting_id",
            &[c.into()],
        )?
        .into_iter()
        .map(|mut r| col(&mut r)?.text())
        .collect::<anyhow::Result<_>>()?;
    let index: HashMap<&str, usize> = members
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();
    let rows = tx.query(
        "SELECT ck.key, ck.posting_id FROM campaign_keys ck
         JOIN campaign_postings cp ON cp.posting_id = ck.posting_id
         WHERE cp.campaign_id = $1
           AND NOT EXISTS (SELECT 1 FROM common_keys x WHERE x.key = ck.key)
         ORDER BY ck.key",
        &[c.into()],
    )?;
    let mut parent: Vec<usize> = (0..members.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first_of_key: HashMap<String, usize> = HashMap::new();
    for mut r in rows {
        let k = col(&mut r)?.text()?;
        let posting = col(&mut r)?.text()?;
        let Some(&i) = index.get(posting.as_str()) else {
            continue;
        };
        match first_of_key.get(&k) {
            Some(&j) => {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
            None => {
                first_of_key.insert(k, i);
            }
        }
    }
    let mut parts: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..members.len() {
        let r = root(&mut parent, i);
        parts.entry(r).or_default().push(i);
    }
    if parts.len() < 2 {
        return Ok(());
    }
    let mut parts: Vec<Vec<usize>> = parts.into_values().collect();
    // Largest first; among equals, the one with the first posting id.
    parts.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    for part in &parts[1..] {
        let id = create(tx, at)?;
        for &i in part {
            tx.exec(
                "UPDATE campaign_postings SET campaign_id = $2 WHERE posting_id = $1",
                &[(&members[i]).into(), id.into()],
            )?;
        }
        recount(tx, id)?;
        event(tx, c, grouping(at, "split", id, Some(key)))?;
    }
    recount(tx, c)
}

/// Sets a campaign's size and first and last sighting from its postings' leads.
fn recount(tx: &mut dyn Tx, id: i64) -> anyhow::Result<()> {
    let mut row = tx
        .query_opt(
            "SELECT COUNT(DISTINCT cp.posting_id), MIN(l.first_seen), MAX(l.last_seen)
             FROM campaign_postings cp JOIN leads l ON l.posting_id = cp.posting_id
             WHERE cp.campaign_id = $1",
            &[id.into()],
        )?
        .context("a count returned no row")?;
    let n = col(&mut row)?.int()?;
    let (first, last) = (col(&mut row)?.opt_text()?, col(&mut row)?.opt_text()?);
    tx.exec(
        "UPDATE campaigns SET postings = $2,
            first_seen = COALESCE($3, first_seen), last_seen = COALESCE($4, last_seen)
         WHERE id = $1",
        &[id.into(), n.into(), first.into(), last.into()],
    )?;
    Ok(())
}

/// `SELECT … FROM campaign_postings cp JOIN leads l …` of one campaign.
const MEMBERS: &str = "FROM campaign_postings cp JOIN leads l ON l.posting_id = cp.posting_id
                       WHERE cp.campaign_id = $1";

fn strings(rows: Vec<crate::db::Row>) -> anyhow::Result<Vec<String>> {
    rows.into_iter().map(|mut r| col(&mut r)?.text()).collect()
}

fn keys_of(tx: &mut dyn Tx, id: i64, min_postings: i64) -> anyhow::Result<Vec<CampaignKey>> {
    let rows = tx.query(
        &format!(
            "SELECT ck.key, COUNT(*),
                    CASE WHEN EXISTS (SELECT 1 FROM common_keys x WHERE x.key = ck.key) THEN 1 ELSE 0 END
             FROM campaign_keys ck JOIN campaign_postings cp ON cp.posting_id = ck.posting_id
             WHERE cp.campaign_id = $1
             GROUP BY ck.key HAVING COUNT(*) >= $2
             ORDER BY COUNT(*) DESC, ck.key LIMIT {MAX_KEYS_SHOWN}"
        ),
        &[id.into(), min_postings.into()],
    )?;
    rows.into_iter()
        .map(|mut r| {
            Ok(CampaignKey {
                key: col(&mut r)?.text()?,
                postings: col(&mut r)?.int()? as u64,
                too_common: col(&mut r)?.int()? != 0,
            })
        })
        .collect()
}

/// A campaign's listing, read in the transaction.
fn summary(tx: &mut dyn Tx, id: i64) -> anyhow::Result<Option<Campaign>> {
    let Some(mut row) = tx.query_opt(
        "SELECT postings, first_seen, last_seen FROM campaigns WHERE id = $1 AND merged_into IS NULL",
        &[id.into()],
    )?
    else {
        return Ok(None);
    };
    let postings = col(&mut row)?.int()? as u64;
    let first_seen = col(&mut row)?.text()?;
    let last_seen = col(&mut row)?.text()?;
    let leads = scalar_int(tx, &format!("SELECT COUNT(*) {MEMBERS}"), &[id.into()])?.unwrap_or(0);
    let sites = strings(tx.query(
        &format!(
            "SELECT COALESCE(l.source, '-') {MEMBERS} GROUP BY l.source ORDER BY COUNT(*) DESC, 1 LIMIT 100"
        ),
        &[id.into()],
    )?)?;
    let categories = tx
        .query(
            &format!("SELECT l.category, COUNT(*) {MEMBERS} GROUP BY l.category ORDER BY COUNT(*) DESC, 1"),
            &[id.into()],
        )?
        .into_iter()
        .map(|mut r| {
            Ok(CategoryCount {
                category: col(&mut r)?.text()?,
                leads: col(&mut r)?.int()? as u64,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let rows = tx.query(
        &format!(
            "SELECT l.lead_id, l.posting_id {MEMBERS} ORDER BY l.first_seen, l.lead_id LIMIT {MAX_MEMBER_LEADS}"
        ),
        &[id.into()],
    )?;
    let mut lead_ids = Vec::with_capacity(rows.len());
    let mut posting_ids: Vec<String> = Vec::new();
    for mut r in rows {
        lead_ids.push(col(&mut r)?.text()?);
        let p = col(&mut r)?.text()?;
        if !posting_ids.contains(&p) {
            posting_ids.push(p);
        }
    }
    let title = match lead_ids.first() {
        Some(l) => tx
            .query_opt(
                "SELECT lead_json FROM leads WHERE lead_id = $1",
                &[l.into()],
            )?
            .map(|mut r| -> anyhow::Result<Option<String>> {
                let lead: Lead = serde_json::from_str(&col(&mut r)?.text()?)?;
                Ok(lead.posting.title)
            })
            .transpose()?
            .flatten(),
        None => None,
    };
    Ok(Some(Campaign {
        id,
        postings,
        leads: leads as u64,
        first_seen,
        last_seen,
        keys: keys_of(tx, id, 2)?,
        sites,
        categories,
        title,
        truncated: (leads as usize) > lead_ids.len(),
        lead_ids,
        posting_ids,
    }))
}

impl CaseQueue {
    /// How many distinct publishers a key may be seen with before it is too common to tie
    /// postings together (default [`DEFAULT_MAX_PUBLISHERS_PER_KEY`]).
    pub fn max_publishers_per_key(mut self, n: usize) -> CaseQueue {
        self.max_publishers = n.max(1);
        self
    }

    /// The campaign `id` is now: itself, or the one it was merged into; `None` if there is
    /// no such campaign.
    pub fn resolve_campaign(&self, id: i64) -> anyhow::Result<Option<i64>> {
        self.db.tx(|tx| {
            scalar_int(
                tx,
                "SELECT COALESCE(merged_into, id) FROM campaigns WHERE id = $1",
                &[id.into()],
            )
        })
    }

    /// Campaigns, largest first (then the latest seen, then by id).
    pub fn campaigns(&self, q: &CampaignQuery) -> anyhow::Result<Vec<Campaign>> {
        let (mut sql, mut args) = (
            String::from("SELECT id FROM campaigns WHERE merged_into IS NULL AND postings >= $1"),
            vec![Value::from(q.min_postings as i64)],
        );
        if let Some(f) = &q.leads {
            let (filter, fargs) = f.sql_from(args.len());
            sql.push_str(&format!(
                " AND id IN (SELECT cp.campaign_id FROM campaign_postings cp
                             JOIN leads ON leads.posting_id = cp.posting_id{filter})"
            ));
            args.extend(fargs);
        }
        sql.push_str(&format!(
            " ORDER BY postings DESC, last_seen DESC, id LIMIT {} OFFSET {}",
            q.limit, q.offset
        ));
        self.db.tx(|tx| {
            let ids: Vec<i64> = tx
                .query(&sql, &args)?
                .into_iter()
                .map(|mut r| col(&mut r)?.int())
                .collect::<anyhow::Result<_>>()?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                out.extend(summary(tx, id)?);
            }
            Ok(out)
        })
    }

    /// One campaign with its postings, the evidence of its keys and its history; `None`
    /// if there is no campaign `id` (a merged id: see [`CaseQueue::resolve_campaign`]).
    pub fn campaign(&self, id: i64) -> anyhow::Result<Option<CampaignDetail>> {
        self.db.tx(|tx| {
            let Some(campaign) = summary(tx, id)? else {
                return Ok(None);
            };
            let rows = tx.query(
                &format!(
                    "SELECT l.posting_id, l.lead_id, l.category, l.severity, l.status, l.assigned_to,
                            l.first_seen, l.last_seen, l.lead_json
                     {MEMBERS} ORDER BY l.first_seen, l.lead_id LIMIT {MAX_MEMBER_LEADS}"
                ),
                &[id.into()],
            )?;
            let mut members: Vec<Member> = Vec::new();
            for mut r in rows {
                let posting_id = col(&mut r)?.text()?;
                let lead = MemberLead {
                    lead_id: col(&mut r)?.text()?,
                    category: col(&mut r)?.text()?,
                    severity: col(&mut r)?.text()?,
                    status: col(&mut r)?.text()?,
                    assigned_to: col(&mut r)?.opt_text()?,
                };
                let first = col(&mut r)?.text()?;
                let last = col(&mut r)?.text()?;
                let json = col(&mut r)?;
                match members.iter_mut().find(|m| m.posting.id == posting_id) {
                    Some(m) => {
                        m.first_seen = m.first_seen.clone().min(first);
                        m.last_seen = m.last_seen.clone().max(last);
                        m.leads.push(lead);
                    }
                    None => {
                        let l: Lead = serde_json::from_str(&json.text()?)
                            .with_context(|| format!("lead {}: stored JSON", lead.lead_id))?;
                        members.push(Member {
                            posting: l.posting,
                            first_seen: first,
                            last_seen: last,
                            leads: vec![lead],
                        });
                    }
                }
            }
            let evidence = tx
                .query(
                    &format!(
                        "SELECT ph.key, ph.posting_id, ph.field, ph.start_byte, ph.end_byte, ph.written
                         FROM posting_handles ph JOIN campaign_postings cp ON cp.posting_id = ph.posting_id
                         WHERE cp.campaign_id = $1 ORDER BY ph.key, ph.posting_id, ph.start_byte
                         LIMIT {}",
                        MAX_KEYS_SHOWN * 5
                    ),
                    &[id.into()],
                )?
                .into_iter()
                .map(|mut r| {
                    Ok(Written {
                        key: col(&mut r)?.text()?,
                        posting_id: col(&mut r)?.text()?,
                        field: col(&mut r)?.text()?,
                        start: col(&mut r)?.int()?,
                        end: col(&mut r)?.int()?,
                        text: col(&mut r)?.text()?,
                    })
                })
                .collect::<anyhow::Result<_>>()?;
            let events = tx
                .query(
                    "SELECT at, actor, action, other, key, note FROM campaign_events
                     WHERE campaign_id = $1 ORDER BY id LIMIT 1000",
                    &[id.into()],
                )?
                .into_iter()
                .map(|mut r| {
                    Ok(CampaignEvent {
                        at: col(&mut r)?.text()?,
                        actor: col(&mut r)?.text()?,
                        action: col(&mut r)?.text()?,
                        other: col(&mut r)?.opt_int()?,
                        key: col(&mut r)?.opt_text()?,
                        note: col(&mut r)?.opt_text()?,
                    })
                })
                .collect::<anyhow::Result<_>>()?;
            Ok(Some(CampaignDetail {
                all_keys: keys_of(tx, id, 1)?,
                campaign,
                members,
                evidence,
                events,
            }))
        })
    }

    /// The campaign of a lead's posting and its size; `None` when the lead is in none
    /// (filed before campaigns were kept, and not seen since).
    pub fn campaign_of_lead(&self, lead_id: &str) -> anyhow::Result<Option<(i64, u64)>> {
        self.db.tx(|tx| {
            tx.query_opt(
                "SELECT c.id, c.postings FROM leads l
                 JOIN campaign_postings cp ON cp.posting_id = l.posting_id
                 JOIN campaigns c ON c.id = cp.campaign_id
                 WHERE l.lead_id = $1",
                &[lead_id.into()],
            )?
            .map(|mut r| Ok((col(&mut r)?.int()?, col(&mut r)?.int()? as u64)))
            .transpose()
        })
    }

    /// Assigns every lead of a campaign to `to` as `actor`, in one transaction: each lead
    /// gets its own event (as `leads mark … assigned` writes it), the campaign one more.
    /// Returns each lead's events; `None` if there is no campaign `id`.
    pub fn assign_campaign(
        &self,
        id: i64,
        to: &str,
        actor: &str,
        note: Option<&str>,
        at: &str,
    ) -> anyhow::Result<Option<Vec<Assigned>>> {
        let change = Change::Assign(to.to_string());
        events::check_change(&change, actor, note)?;
        let postgres = self.db.is_postgres();
        let note = note.map_or_else(
            || format!("campaign {id}"),
            |n| format!("campaign {id}: {n}"),
        );
        let note = note.chars().take(crate::MAX_NOTE_CHARS).collect::<String>();
        self.db.tx(|tx| {
            if scalar_int(
                tx,
                "SELECT id FROM campaigns WHERE id = $1 AND merged_into IS NULL",
                &[id.into()],
            )?
            .is_none()
            {
                return Ok(None);
            }
            let leads = strings(tx.query(
                &format!(
                    "SELECT l.lead_id {MEMBERS} ORDER BY l.first_seen, l.lead_id LIMIT {}",
                    MAX_ASSIGN_LEADS + 1
                ),
                &[id.into()],
            )?)?;
            anyhow::ensure!(
                leads.len() <= MAX_ASSIGN_LEADS,
                "campaign {id} has more than {MAX_ASSIGN_LEADS} leads: assign them by filter"
            );
            let mut out = Vec::with_capacity(leads.len());
            for l in leads {
                let written = events::change_in(tx, postgres, &l, &change, actor, Some(&note), at)?
                    .unwrap_or_default();
                out.push(Assigned {
                    lead_id: l,
                    events: written,
                });
            }
            let assigned = CampaignEvent {
                at: at.into(),
                actor: actor.into(),
                action: "assign".into(),
                other: None,
                key: None,
                note: Some(to.into()),
            };
            event(tx, id, assigned)?;
            Ok(Some(out))
        })
    }
}
