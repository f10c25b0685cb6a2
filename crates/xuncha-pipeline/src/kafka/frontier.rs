//! The crawl frontier shared by several crawler processes: the topic `xuncha.frontier`,
//! keyed by host.
//!
//! Kafka hashes the key to a partition and gives each partition to one member of the
//! consumer group, so every host's URLs reach exactly one crawler process, which alone
//! fetches that host and alone keeps its politeness (rate, `Crawl-delay`, back-off).
//! [`KafkaFrontier`] implements [`xuncha_core::Frontier`] on top of that; the decisions:
//!
//! - **Its own consumer group**, `<kafka.group>-crawler` ([`crawler_group`]): crawlers and
//!   scanners must not share partitions, offsets or rebalances. A static member id
//!   (`kafka.instance_id`) is used as `group.instance.id` here too; ids only need to be
//!   unique within a group, so a machine running a scanner and a crawler can give both the
//!   same one.
//! - **One reader per process, per-site local queues.** The topic carries every site's
//!   entries, mixed in the same partitions, while the crawler pops one site at a time. A
//!   background task consumes the owned partitions continuously (so the member stays in the
//!   group and rebalances are served) and files each entry under its site, list pages ahead
//!   of postings. Entries of a site that has no pass running here wait in its queue for the
//!   next pass; nothing is skipped.
//! - **Offsets: committed up to the first entry not yet done.** Every received offset is
//!   pending until the crawler calls [`done`](Frontier::done) for it (or it is dropped as a
//!   duplicate, or cannot be parsed); a partition's commit position is its lowest pending
//!   offset, so an entry still queued or in flight, of any site, is never committed past. A
//!   process that dies has its unfinished entries delivered again to the next owner of the
//!   partition: at-least-once, like every other stage. Commits are asynchronous; revoked
//!   partitions and a dropped frontier commit synchronously what is done.
//! - **Dedup per pass, per partition.** The owner of a partition keeps, for each site, the
//!   URLs received in the current pass; a URL received again is dropped (and its offset
//!   counts as done). [`finish`](Frontier::finish) forgets the site's seen-set and drops,
//!   as done, whatever is still queued for it (the rest of a pass stopped at `max_pages`,
//!   or copies of seeds that came late); entries arriving after it wait for the next
//!   pass. Only the owner can tell duplicates, since only it sees all of a host's entries;
//!   the pusher never filters.
//! - **`begin` in a distributed setting:** every process runs a pass of every site it is
//!   configured with, and each one's `begin` produces the site's seeds. The owner of the
//!   seeds' host drops all copies but the first, so the seeds are fetched once a pass
//!   whatever the number of crawlers; the others' passes receive nothing and end after the
//!   idle timeout. `begin` returns `true` when entries of the site were already waiting here
//!   (delivered again after a restart, or arrived between passes): the pass resumes them.
//! - **`pop` returns `None`** when the site has nothing queued here, nothing in flight here,
//!   and nothing has arrived for it, nothing was done and the assignment has not changed
//!   for the idle timeout ([`KafkaFrontier::new`]). Entries a page produces reach Kafka
//!   before the page is done, so after the last page only the consumer's fetch latency
//!   remains: a few seconds of idle timeout are plenty; longer only delays the end of a
//!   pass. Until this process has first joined the group (an assignment, even an empty
//!   one), `pop` waits without a limit: no entry can have arrived yet, and joining takes
//!   seconds.
//! - **Rebalance:** when partitions are revoked, their done offsets are committed, and their
//!   queued entries and seen-sets dropped: the next owner receives everything not yet done,
//!   from the committed offset. Entries of those partitions already in flight here finish,
//!   but their `done` no longer commits anything (each partition's assignment has an epoch),
//!   so the new owner fetches them again; fetching a page twice during a rebalance is the
//!   price of never losing one.
//!
//! Every crawler process of a group should crawl the same sites: an entry of a site this
//! process never runs waits in its queue, and holds back its partition's commits, until the
//! process ends.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::producer::FutureProducer;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use xuncha_core::{lock, BoxFuture, Frontier, FrontierEntry, FrontierError, PageKind};

use super::sink::{producer, send_all};
use super::KafkaConfig;

/// The consumer group of the crawlers sharing `config`'s frontier topic:
/// `<kafka.group>-crawler`.
pub fn crawler_group(config: &KafkaConfig) -> String {
    format!("{}-crawler", config.group)
}

/// A frontier in the Kafka topic `kafka.topics.frontier`, shared by the crawler processes
/// of one consumer group. See the module docs for its guarantees.
pub struct KafkaFrontier {
    shared: Arc<Shared>,
    consumer: Arc<StreamConsumer<FrontierContext>>,
    producer: FutureProducer,
    idle: Duration,
    reader: JoinHandle<()>,
}

/// State shared by the frontier, its reader task and the rebalance callbacks.
struct Shared {
    topic: String,
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Default)]
struct State {
    sites: HashMap<String, SiteQueue>,
    partitions: HashMap<i32, PartitionState>,
    /// Popped and not yet done, by (site, URL). A list because a URL can be in flight twice
    /// when a rebalance gave its partition away and back.
    in_flight: HashMap<(String, String), Vec<Ticket>>,
    epochs: u64,
    assigned_at: Option<Instant>,
}

/// Where an entry came from.
#[derive(Clone, Copy)]
struct Ticket {
    partition: i32,
    offset: i64,
    epoch: u64,
}

struct Queued {
    entry: FrontierEntry,
    ticket: Ticket,
}

struct SiteQueue {
    lists: VecDeque<Queued>,
    postings: VecDeque<Queued>,
    in_flight: usize,
    /// URLs received in the current pass, per partition.
    seen: HashMap<i32, HashSet<String>>,
    last_activity: Instant,
}

impl SiteQueue {
    fn new() -> SiteQueue {
        SiteQueue {
            lists: VecDeque::new(),
            postings: VecDeque::new(),
            in_flight: 0,
            seen: HashMap::new(),
            last_activity: Instant::now(),
        }
    }
}

/// Offsets of one owned partition.
struct PartitionState {
    epoch: u64,
    /// Received and not yet done.
    pending: BTreeSet<i64>,
    /// One past the highest offset received.
    next: Option<i64>,
    /// The last position committed (or sent to be).
    committed: i64,
}

impl PartitionState {
    /// The position to commit, if it moved: the first offset not done.
    fn advance(&mut self) -> Option<i64> {
        let position = self.pending.first().copied().or(self.next)?;
        (position > self.committed).then(|| {
            self.committed = position;
            position
        })
    }
}

impl State {
    fn new_partition(&mut self) -> PartitionState {
        self.epochs += 1;
        PartitionState {
            epoch: self.epochs,
            pending: BTreeSet::new(),
            next: None,
            committed: -1,
        }
    }

    /// Marks `ticket` done; returns the partition's new commit position, if it moved.
    fn settle(&mut self, ticket: Ticket) -> Option<(i32, i64)> {
        let p = self.partitions.get_mut(&ticket.partition)?;
        if p.epoch != ticket.epoch {
            return None;
        }
        p.pending.remove(&ticket.offset);
        p.advance().map(|o| (ticket.partition, o))
    }

    /// Ends the pass of `site`: forgets its seen-set and drops what is still queued (what
    /// a pass stopped at `max_pages` left), as done. Returns the commit positions that moved.
    fn finish(&mut self, site: &str) -> Vec<(i32, i64)> {
        let Some(q) = self.sites.get_mut(site) else {
            return Vec::new();
        };
        q.seen.clear();
        let dropped: Vec<Ticket> = q
            .lists
            .drain(..)
            .chain(q.postings.drain(..))
            .map(|e| e.ticket)
            .collect();
        let mut positions: BTreeMap<i32, i64> = BTreeMap::new();
        for t in dropped {
            if let Some((p, o)) = self.settle(t) {
                let e = positions.entry(p).or_insert(o);
                *e = (*e).max(o);
            }
        }
        positions.into_iter().collect()
    }

    /// Files one received message; returns a commit position when it was dropped at once.
    fn receive(
        &mut self,
        partition: i32,
        offset: i64,
        entry: Option<FrontierEntry>,
    ) -> Option<(i32, i64)> {
        if !self.partitions.contains_key(&partition) {
            let p = self.new_partition();
            self.partitions.insert(partition, p);
        }
        let p = self.partitions.get_mut(&partition).expect("inserted above");
        p.pending.insert(offset);
        p.next = Some(p.next.map_or(offset + 1, |n| n.max(offset + 1)));
        let ticket = Ticket {
            partition,
            offset,
            epoch: p.epoch,
        };
        let Some(entry) = entry else {
            return self.settle(ticket);
        };
        let site = self
            .sites
            .entry(entry.site.clone())
            .or_insert_with(SiteQueue::new);
        site.last_activity = Instant::now();
        if !site
            .seen
            .entry(partition)
            .or_default()
            .insert(entry.url.clone())
        {
            return self.settle(ticket);
        }
        let queue = match entry.kind {
            PageKind::List => &mut site.lists,
            PageKind::Posting => &mut site.postings,
        };
        queue.push_back(Queued { entry, ticket });
        None
    }
}

impl Shared {
    fn commit(
        &self,
        consumer: &impl Consumer<FrontierContext>,
        positions: &[(i32, i64)],
        mode: CommitMode,
    ) {
        if positions.is_empty() {
            return;
        }
        let mut tpl = TopicPartitionList::new();
        for (partition, offset) in positions {
            if let Err(e) =
                tpl.add_partition_offset(&self.topic, *partition, Offset::Offset(*offset))
            {
                tracing::warn!(topic = %self.topic, partition, offset, error = %e, "frontier commit");
                return;
            }
        }
        if let Err(e) = consumer.commit(&tpl, mode) {
            // Lost commits only re-deliver entries: at-least-once holds.
            tracing::warn!(topic = %self.topic, ?positions, error = %e, "frontier offset commit failed; entries may be fetched again");
        }
    }
}

/// Serves rebalances: drops what belonged to revoked partitions, starts the new ones.
struct FrontierContext {
    shared: Arc<Shared>,
}

impl ClientContext for FrontierContext {}

impl ConsumerContext for FrontierContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(tpl) = rebalance else {
            return;
        };
        let revoked: Vec<i32> = tpl
            .elements_for_topic(&self.shared.topic)
            .iter()
            .map(|e| e.partition())
            .collect();
        let positions: Vec<(i32, i64)> = {
            let mut st = lock(&self.shared.state);
            let mut positions = Vec::new();
            for p in &revoked {
                if let Some(mut ps) = st.partitions.remove(p) {
                    positions.extend(ps.advance().map(|o| (*p, o)));
                }
            }
            for site in st.sites.values_mut() {
                for p in &revoked {
                    site.seen.remove(p);
                }
                site.lists
                    .retain(|q| !revoked.contains(&q.ticket.partition));
                site.postings
                    .retain(|q| !revoked.contains(&q.ticket.partition));
            }
            positions
        };
        tracing::info!(topic = %self.shared.topic, partitions = ?revoked, "frontier partitions revoked");
        self.shared.commit(consumer, &positions, CommitMode::Sync);
        self.shared.changed.notify_waiters();
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                let assigned: Vec<i32> = tpl
                    .elements_for_topic(&self.shared.topic)
                    .iter()
                    .map(|e| e.partition())
                    .collect();
                let mut st = lock(&self.shared.state);
                for p in &assigned {
                    if !st.partitions.contains_key(p) {
                        let ps = st.new_partition();
                        st.partitions.insert(*p, ps);
                    }
                }
                st.assigned_at = Some(Instant::now());
                drop(st);
                tracing::info!(topic = %self.shared.topic, partitions = ?assigned, "frontier partitions assigned");
                self.shared.changed.notify_waiters();
            }
            Rebalance::Error(e) => {
                tracing::warn!(topic = %self.shared.topic, error = %e, "frontier rebalance failed")
            }
            Rebalance::Revoke(_) => {}
        }
    }
}

impl KafkaFrontier {
    /// Joins the crawlers' group ([`crawler_group`]) on `config.topics.frontier` and starts
    /// reading it. A pass ends once its site has been idle for `idle_timeout` (see the
    /// module docs). Must be called within a Tokio runtime. The topic must exist (see
    /// [`ensure_topics`](super::ensure_topics)).
    pub fn new(config: &KafkaConfig, idle_timeout: Duration) -> anyhow::Result<KafkaFrontier> {
        let topic = config.topics.frontier.clone();
        let group = crawler_group(config);
        let shared = Arc::new(Shared {
            topic: topic.clone(),
            state: Mutex::new(State::default()),
            changed: Notify::new(),
        });
        let mut client = config.client();
        if let Some(id) = &config.instance_id {
            client.set("group.instance.id", id);
        }
        let consumer: StreamConsumer<FrontierContext> = client
            .set("group.id", &group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            .create_with_context(FrontierContext {
                shared: shared.clone(),
            })
            .with_context(|| {
                format!(
                    "creating the frontier consumer for {} (group {group})",
                    config.brokers
                )
            })?;
        consumer
            .subscribe(&[&topic])
            .with_context(|| format!("subscribing to {topic} on {}", config.brokers))?;
        let consumer = Arc::new(consumer);
        let reader = tokio::spawn(read(consumer.clone(), shared.clone()));
        Ok(KafkaFrontier {
            shared,
            consumer,
            producer: producer(config)?,
            idle: idle_timeout,
            reader,
        })
    }

    /// The partitions of the frontier topic this process owns now, in order.
    pub fn assignment(&self) -> Vec<i32> {
        let mut v: Vec<i32> = lock(&self.shared.state)
            .partitions
            .keys()
            .copied()
            .collect();
        v.sort_unstable();
        v
    }

    fn commit(&self, positions: &[(i32, i64)], mode: CommitMode) {
        self.shared.commit(self.consumer.as_ref(), positions, mode);
    }
}

/// The reader task: files every message under its site until the frontier is dropped.
async fn read(consumer: Arc<StreamConsumer<FrontierContext>>, shared: Arc<Shared>) {
    loop {
        let (partition, offset, entry) = match consumer.recv().await {
            Ok(m) => {
                let entry = match serde_json::from_slice::<FrontierEntry>(
                    m.payload().unwrap_or_default(),
                ) {
                    Ok(e) => Some(e),
                    Err(e) => {
                        tracing::warn!(topic = %m.topic(), partition = m.partition(), offset = m.offset(), error = %e, "not a frontier entry; skipped");
                        None
                    }
                };
                (m.partition(), m.offset(), entry)
            }
            Err(e) => {
                // Broker outages surface here while librdkafka reconnects by itself.
                tracing::warn!(topic = %shared.topic, error = %e, "frontier consumer error; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let position = lock(&shared.state).receive(partition, offset, entry);
        if let Some(position) = position {
            shared.commit(consumer.as_ref(), &[position], CommitMode::Async);
        }
        shared.changed.notify_waiters();
    }
}

impl Drop for KafkaFrontier {
    fn drop(&mut self) {
        self.reader.abort();
        // Every position again, not only those that moved: an asynchronous commit sent
        // just before may not have reached the broker.
        let positions: Vec<(i32, i64)> = lock(&self.shared.state)
            .partitions
            .iter()
            .filter_map(|(p, ps)| Some((*p, ps.pending.first().copied().or(ps.next)?)))
            .collect();
        self.commit(&positions, CommitMode::Sync);
    }
}

fn boxed(e: anyhow::Error) -> FrontierError {
    FrontierError(e.into())
}

impl Frontier for KafkaFrontier {
    fn begin<'a>(
        &'a self,
        site: &'a str,
        seeds: Vec<FrontierEntry>,
    ) -> BoxFuture<'a, Result<bool, FrontierError>> {
        Box::pin(async move {
            let resumed = {
                let mut st = lock(&self.shared.state);
                let q = st
                    .sites
                    .entry(site.to_owned())
                    .or_insert_with(SiteQueue::new);
                q.last_activity = Instant::now();
                !(q.lists.is_empty() && q.postings.is_empty())
            };
            self.push(seeds).await?;
            Ok(resumed)
        })
    }

    fn push(&self, entries: Vec<FrontierEntry>) -> BoxFuture<'_, Result<(), FrontierError>> {
        Box::pin(async move {
            if entries.is_empty() {
                return Ok(());
            }
            let items = entries
                .iter()
                .map(|e| Ok((e.host.clone(), serde_json::to_vec(e)?)))
                .collect::<anyhow::Result<Vec<_>>>()
                .map_err(boxed)?;
            send_all(&self.producer, &self.shared.topic, items)
                .await
                .map_err(boxed)
        })
    }

    fn pop<'a>(&'a self, site: &'a str) -> BoxFuture<'a, Option<FrontierEntry>> {
        Box::pin(async move {
            loop {
                // Registered before looking, so an arrival or a done in between wakes us.
                let changed = self.shared.changed.notified();
                let deadline = {
                    let mut guard = lock(&self.shared.state);
                    let st = &mut *guard;
                    let q = st.sites.get_mut(site)?;
                    if let Some(next) = q.lists.pop_front().or_else(|| q.postings.pop_front()) {
                        q.in_flight += 1;
                        st.in_flight
                            .entry((site.to_owned(), next.entry.url.clone()))
                            .or_default()
                            .push(next.ticket);
                        return Some(next.entry);
                    }
                    // Before the first assignment (joining a group takes seconds) no
                    // entry can arrive: the idle time counts from the join.
                    if let (0, Some(assigned_at)) = (q.in_flight, st.assigned_at) {
                        let deadline = assigned_at.max(q.last_activity) + self.idle;
                        if Instant::now() >= deadline {
                            return None;
                        }
                        Some(deadline)
                    } else {
                        None
                    }
                };
                match deadline {
                    Some(d) => {
                        tokio::select! {
                            _ = changed => {}
                            _ = tokio::time::sleep_until(d) => {}
                        }
                    }
                    None => changed.await,
                }
            }
        })
    }

    fn done<'a>(&'a self, entry: &'a FrontierEntry) -> BoxFuture<'a, Result<(), FrontierError>> {
        Box::pin(async move {
            let position = {
                let mut st = lock(&self.shared.state);
                if let Some(q) = st.sites.get_mut(&entry.site) {
                    q.in_flight = q.in_flight.saturating_sub(1);
                    q.last_activity = Instant::now();
                }
                let key = (entry.site.clone(), entry.url.clone());
                let ticket = match st.in_flight.get_mut(&key) {
                    Some(tickets) => {
                        let t = tickets.pop();
                        if tickets.is_empty() {
                            st.in_flight.remove(&key);
                        }
                        t
                    }
                    None => None,
                };
                ticket.and_then(|t| st.settle(t))
            };
            if let Some(position) = position {
                self.commit(&[position], CommitMode::Async);
            }
            self.shared.changed.notify_waiters();
            Ok(())
        })
    }

    fn finish<'a>(&'a self, site: &'a str) -> BoxFuture<'a, Result<(), FrontierError>> {
        Box::pin(async move {
            let positions = lock(&self.shared.state).finish(site);
            self.commit(&positions, CommitMode::Async);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(url: &str, kind: PageKind) -> Option<FrontierEntry> {
        Some(FrontierEntry {
            site: "s".into(),
            url: url.into(),
            host: "h".into(),
            kind,
        })
    }

    fn pop(st: &mut State) -> Ticket {
        let q = st.sites.get_mut("s").unwrap();
        let next = q.lists.pop_front().or_else(|| q.postings.pop_front());
        next.unwrap().ticket
    }

    #[test]
    fn commits_stop_at_the_first_entry_not_done_and_duplicates_count_as_done() {
        let mut st = State::default();
        assert_eq!(st.receive(0, 10, entry("p1", PageKind::Posting)), None);
        assert_eq!(st.receive(0, 11, entry("l1", PageKind::List)), None);
        // A duplicate and an unreadable message settle at once, but 10 and 11 are pending:
        // the position stays at 10 (everything before it came from earlier commits).
        assert_eq!(
            st.receive(0, 12, entry("p1", PageKind::Posting)),
            Some((0, 10))
        );
        assert_eq!(st.receive(0, 13, None), None);
        let l1 = pop(&mut st);
        assert_eq!(l1.offset, 11, "list pages first");
        let p1 = pop(&mut st);
        assert_eq!(st.settle(l1), None, "offset 10 is not done yet");
        assert_eq!(st.settle(p1), Some((0, 14)));
        assert_eq!(st.receive(1, 0, entry("p1", PageKind::Posting)), None);
        assert_eq!(st.receive(1, 1, entry("p2", PageKind::Posting)), None);
        // The pass ends with both still queued (stopped at max_pages): dropped, as done.
        assert_eq!(st.finish("s"), vec![(1, 2)]);
        assert!(st.sites["s"].postings.is_empty());
        assert_eq!(st.receive(1, 2, entry("p1", PageKind::Posting)), None);
        assert_eq!(
            st.sites["s"].postings.len(),
            1,
            "seen-sets are per partition"
        );
    }

    #[test]
    fn a_ticket_of_an_earlier_assignment_commits_nothing() {
        let mut st = State::default();
        st.receive(0, 5, entry("p1", PageKind::Posting));
        let old = pop(&mut st);
        // Revoked and assigned again: a new epoch, offsets from the committed position.
        st.partitions.remove(&0);
        st.receive(0, 5, None);
        assert_eq!(st.settle(old), None);
        assert_eq!(st.partitions[&0].committed, 6);
    }
}
