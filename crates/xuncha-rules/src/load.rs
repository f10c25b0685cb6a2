use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use regex::Regex;
use sha2::{Digest, Sha256};
use toml::Spanned;
use xuncha_core::{Category, LegalRef, Severity};

use crate::error::{LoadError, LoadErrors};
use crate::raw::{
    take_phrase, LawsFile, LexiconFile, PackFile, RawLocal, RawPhrase, RawReplacement, RawRule,
    RawSignal,
};
use crate::rule::{
    Division, Examples, Lexicon, LocalSeverity, NumberRange, Origin, Phrase, Replacement, Rule,
    RuleBody, RuleSet, Scope, Signal, Signature,
};

/// Fewest examples of each kind a rule must carry to load.
pub const MIN_EXAMPLES: usize = 5;

const LAWS_FILE: &str = "laws.toml";
const LEXICON_FILE: &str = "lexicon.toml";
const DIVISIONS_FILE: &str = "divisions.csv";

/// Collects problems with their file and line while a set loads.
struct Ctx {
    errors: Vec<LoadError>,
    file: PathBuf,
    text: String,
}

impl Ctx {
    fn line_of(&self, offset: usize) -> usize {
        self.text.as_bytes()[..offset.min(self.text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn err_at(&mut self, offset: usize, message: impl Into<String>) {
        let line = self.line_of(offset);
        self.errors.push(LoadError {
            file: self.file.clone(),
            line: Some(line),
            message: message.into(),
        });
    }

    fn err_file(&mut self, message: impl Into<String>) {
        self.errors.push(LoadError {
            file: self.file.clone(),
            line: None,
            message: message.into(),
        });
    }

    fn switch(&mut self, file: &Path, text: String) {
        self.file = file.to_path_buf();
        self.text = text;
    }

    fn toml_error(&mut self, e: toml::de::Error) {
        let msg = e.message().to_string();
        match e.span() {
            Some(span) => self.err_at(span.start, msg),
            None => self.err_file(msg),
        }
    }
}

impl RuleSet {
    /// Loads and validates every file in `dir`. Either the whole set loads, or every
    /// problem found is returned, each with its `file:line`.
    pub fn load(dir: impl AsRef<Path>) -> Result<RuleSet, LoadErrors> {
        let dir = dir.as_ref();
        let mut ctx = Ctx {
            errors: Vec::new(),
            file: dir.to_path_buf(),
            text: String::new(),
        };
        let mut entries: Vec<PathBuf> = match fs::read_dir(dir) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                ctx.err_file(format!("cannot read the rules directory: {e}"));
                return Err(LoadErrors(ctx.errors));
            }
        };
        entries.sort();
        let mut hasher = Sha256::new();
        let mut read = |ctx: &mut Ctx, path: &Path| -> Option<String> {
            match fs::read_to_string(path) {
                Ok(t) => {
                    hasher.update(path.file_name().unwrap_or_default().as_encoded_bytes());
                    hasher.update(t.as_bytes());
                    Some(t)
                }
                Err(e) => {
                    ctx.switch(path, String::new());
                    ctx.err_file(format!("cannot read: {e}"));
                    None
                }
            }
        };

        let laws = match read(&mut ctx, &dir.join(LAWS_FILE)) {
            Some(text) => {
                ctx.switch(&dir.join(LAWS_FILE), text);
                load_laws(&mut ctx)
            }
            None => BTreeMap::new(),
        };
        let lexicon = match dir.join(LEXICON_FILE) {
            p if p.exists() => match read(&mut ctx, &p) {
                Some(text) => {
                    ctx.switch(&p, text);
                    load_lexicon(&mut ctx)
                }
                None => Lexicon::default(),
            },
            _ => Lexicon::default(),
        };
        let divisions = match dir.join(DIVISIONS_FILE) {
            p if p.exists() => match read(&mut ctx, &p) {
                Some(text) => {
                    ctx.switch(&p, text);
                    load_divisions(&mut ctx)
                }
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        let codes: HashSet<&str> = divisions.iter().map(|d| d.code.as_str()).collect();

        let mut rules = Vec::new();
        let mut versions = Vec::new();
        let mut packs = 0;
        for path in &entries {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.ends_with(".toml") || name == LAWS_FILE || name == LEXICON_FILE {
                continue;
            }
            let Some(text) = read(&mut ctx, path) else {
                continue;
            };
            ctx.switch(path, text);
            packs += 1;
            let pack: PackFile = match toml::from_str(&ctx.text) {
                Ok(p) => p,
                Err(e) => {
                    ctx.toml_error(e);
                    continue;
                }
            };
            versions.push(pack.pack.version.clone());
            for raw in pack.rule {
                if let Some(rule) = build_rule(&mut ctx, raw, &laws, &codes) {
                    rules.push(rule);
                }
            }
        }
        if packs == 0 {
            ctx.switch(dir, String::new());
            ctx.err_file("no rule pack (a *.toml file with a [pack] table) in this directory");
        }
        let mut seen: BTreeMap<&str, &Origin> = BTreeMap::new();
        let mut dupes = Vec::new();
        for r in &rules {
            if let Some(first) = seen.insert(&r.id, &r.origin) {
                dupes.push(LoadError {
                    file: r.origin.file.clone(),
                    line: Some(r.origin.line),
                    message: format!("rule id `{}` is already used at {first}", r.id),
                });
            }
        }
        ctx.errors.extend(dupes);
        for r in &rules {
            let phrases: Vec<&Phrase> = match &r.body {
                RuleBody::Phrase(p) => vec![p],
                RuleBody::Signature(s) => {
                    s.signals.iter().filter_map(|s| s.phrase.as_ref()).collect()
                }
            };
            for a in phrases.iter().filter_map(|p| p.attribute.as_deref()) {
                if !lexicon.attributes.iter().any(|(name, _)| name == a) {
                    ctx.errors.push(LoadError {
                        file: r.origin.file.clone(),
                        line: Some(r.origin.line),
                        message: format!(
                            "rule `{}`: attribute `{a}` is not in the lexicon's [attributes]",
                            r.id
                        ),
                    });
                }
            }
        }
        if !ctx.errors.is_empty() {
            return Err(LoadErrors(ctx.errors));
        }
        versions.sort();
        let digest = hasher.finalize();
        let short: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        Ok(RuleSet {
            version: format!("{}+{short}", versions.last().cloned().unwrap_or_default()),
            rules,
            laws,
            lexicon,
            divisions,
            dir: dir.to_path_buf(),
        })
    }
}

fn load_laws(ctx: &mut Ctx) -> BTreeMap<String, LegalRef> {
    let file: LawsFile = match toml::from_str(&ctx.text) {
        Ok(f) => f,
        Err(e) => {
            ctx.toml_error(e);
            return BTreeMap::new();
        }
    };
    let mut out = BTreeMap::new();
    for (key, law) in file.law {
        let span = law.span();
        let law = law.into_inner();
        if law.law.trim().is_empty() || law.article.trim().is_empty() || law.text.trim().is_empty()
        {
            ctx.err_at(
                span.start,
                format!("law `{key}` needs law, article and text"),
            );
            continue;
        }
        out.insert(
            key.clone(),
            LegalRef {
                key,
                law: law.law,
                article: law.article,
                text: law.text,
            },
        );
    }
    out
}

fn load_lexicon(ctx: &mut Ctx) -> Lexicon {
    let file: LexiconFile = match toml::from_str(&ctx.text) {
        Ok(f) => f,
        Err(e) => {
            ctx.toml_error(e);
            return Lexicon::default();
        }
    };
    let mut lex = Lexicon::default();
    for (table, english) in [(file.pinyin, false), (file.english, true)] {
        for (token, rep) in table {
            let limit = 16;
            if token.is_empty()
                || token.len() > limit
                || !token.bytes().all(|b| b.is_ascii_lowercase())
            {
                ctx.err_file(format!(
                    "lexicon: token `{token}` must be 1 to {limit} lower-case ASCII letters"
                ));
                continue;
            }
            let rep = match rep {
                RawReplacement::Plain(to) => Replacement {
                    to,
                    not_before: Vec::new(),
                },
                RawReplacement::Guarded { to, not_before } => Replacement {
                    to,
                    not_before: not_before.iter().flat_map(|s| s.chars()).collect(),
                },
            };
            if english {
                lex.english.push((token, rep));
            } else {
                lex.pinyin.push((token, rep));
            }
        }
    }
    for (from, to) in file.homophones {
        if from.is_empty() {
            ctx.err_file("lexicon: empty homophone");
            continue;
        }
        lex.homophones.push((from, to));
    }
    lex.duty_markers = file.scope.duty;
    lex.warning_markers = file.scope.warning;
    lex.warning_headers = file.scope.warning_header;
    lex.applicant_speakers = file.scope.applicant;
    for (name, heads) in file.attributes {
        if heads.iter().any(|h| h.is_empty()) {
            ctx.err_file(format!(
                "lexicon: attribute `{name}` has an empty head word"
            ));
            continue;
        }
        lex.attributes.push((name, heads));
    }
    lex
}

fn load_divisions(ctx: &mut Ctx) -> Vec<Division> {
    let mut rdr = csv::Reader::from_reader(ctx.text.as_bytes());
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        match rec {
            Ok(r) if r.len() >= 5 => {
                let code = r[0].trim().to_string();
                if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                    problems.push((line, format!("division code `{code}` is not 6 digits")));
                    continue;
                }
                out.push(Division {
                    code,
                    name: r[1].trim().to_string(),
                    short: r[2].trim().to_string(),
                    level: r[3].trim().to_string(),
                    parent: r[4].trim().to_string(),
                });
            }
            Ok(_) => problems.push((line, "expected code,name,short,level,parent".into())),
            Err(e) => problems.push((line, e.to_string())),
        }
    }
    for (line, message) in problems {
        ctx.errors.push(LoadError {
            file: ctx.file.clone(),
            line: Some(line),
            message,
        });
    }
    out
}

fn legal(
    ctx: &mut Ctx,
    laws: &BTreeMap<String, LegalRef>,
    key: &Spanned<String>,
) -> Option<LegalRef> {
    match laws.get(key.get_ref()) {
        Some(l) => Some(l.clone()),
        None => {
            ctx.err_at(
                key.span().start,
                format!(
                    "legal reference `{}` is not defined in {LAWS_FILE}",
                    key.get_ref()
                ),
            );
            None
        }
    }
}

/// The largest compiled form a rule's regex may take. A regex's compiled size is what its
/// matching costs per byte in the worst case and what a rule set holds in memory; the
/// shipped rules stay under a quarter of this, while a pattern like `(\w+\s*){50}a` takes
/// four megabytes and, run over a long posting, seconds.
pub const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// Most bytes of lazily built DFA states one rule regex keeps per thread. At the regex
/// crate's 2 MiB a gap pattern (`押金.{0,8}元`) over real postings filled its cache and had it
/// cleared again and again, so that building states cost more than matching with them;
/// the cache grows only as states are built, so most regexes stay far below this.
pub const PATTERN_DFA_CACHE: usize = 8 << 20;

fn regexes(ctx: &mut Ctx, what: &str, list: &[Spanned<String>]) -> Vec<Regex> {
    let mut out = Vec::new();
    for p in list {
        let built = regex::RegexBuilder::new(&ascii_word_boundaries(p.get_ref()))
            .size_limit(PATTERN_SIZE_LIMIT)
            .dfa_size_limit(PATTERN_DFA_CACHE)
            .build();
        match built {
            Ok(re) => out.push(re),
            Err(regex::Error::CompiledTooBig(_)) => ctx.err_at(
                p.span().start,
                format!(
                    "{what} `{}` is too costly: compiled, it is larger than {} KiB (bounded repeats of broad classes such as `(\\w+\\s*){{50}}` multiply; bound the gap with a narrow class or a smaller count)",
                    p.get_ref(),
                    PATTERN_SIZE_LIMIT / 1024
                ),
            ),
            Err(e) => ctx.err_at(
                p.span().start,
                format!("{what} `{}` is not a valid regex: {e}", p.get_ref()),
            ),
        }
    }
    out
}

/// `\b` in a rule means an ASCII word boundary: English words in Chinese text end where
/// the Han characters begin (`我们agent全程`), which Unicode's `\b` denies, and a Unicode
/// boundary makes a pattern set give up its DFA on any non-ASCII text.
fn ascii_word_boundaries(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push_str("(?-u:\\b)"),
            Some(n) => {
                out.push('\\');
                out.push(n);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn build_phrase(ctx: &mut Ctx, at: usize, id: &str, raw: RawPhrase) -> Option<Phrase> {
    let before = ctx.errors.len();
    if raw.anchors.is_empty() {
        ctx.err_at(
            at,
            format!("rule `{id}`: a phrase needs at least one anchor"),
        );
    }
    if raw.patterns.is_empty() {
        ctx.err_at(
            at,
            format!("rule `{id}`: a phrase needs at least one pattern"),
        );
    }
    for a in &raw.anchors {
        if a.get_ref().trim().is_empty() {
            ctx.err_at(a.span().start, format!("rule `{id}`: empty anchor"));
        }
    }
    let patterns = regexes(ctx, "pattern", &raw.patterns);
    let number = raw.number.map(|n| {
        let span = n.span();
        let n = n.into_inner();
        if !patterns
            .iter()
            .any(|p| p.capture_names().any(|c| c == Some(n.group.as_str())))
        {
            ctx.err_at(
                span.start,
                format!("rule `{id}`: number group `{}` is in no pattern", n.group),
            );
        }
        NumberRange {
            group: n.group,
            min: n.min,
            max: n.max,
        }
    });
    let scope = match raw.scope.as_ref().map(|s| s.get_ref().as_str()) {
        None | Some("any") => Scope::Any,
        Some("applicant") => Scope::Applicant,
        Some(other) => {
            let at = raw.scope.as_ref().map(|s| s.span().start).unwrap_or(at);
            ctx.err_at(
                at,
                format!("rule `{id}`: scope `{other}` is not `any` or `applicant`"),
            );
            Scope::Any
        }
    };
    let phrase = Phrase {
        anchors: raw.anchors.into_iter().map(|a| a.into_inner()).collect(),
        patterns,
        negations: regexes(ctx, "negation", &raw.negations),
        negation_window: raw.negation_window.unwrap_or(6),
        exceptions: regexes(ctx, "exception", &raw.exceptions),
        requires_clause: regexes(ctx, "requires_clause", &raw.requires_clause),
        requires: regexes(ctx, "requires", &raw.requires),
        word_boundary: raw.word_boundary,
        scope,
        number,
        attribute: raw.attribute.map(|a| a.into_inner()),
        unless: regexes(ctx, "unless", &raw.unless),
        questions: raw.questions,
    };
    (ctx.errors.len() == before).then_some(phrase)
}

fn severity(ctx: &mut Ctx, s: &Spanned<String>) -> Option<Severity> {
    match s.get_ref().parse::<Severity>() {
        Ok(v) => Some(v),
        Err(e) => {
            ctx.err_at(s.span().start, e.to_string());
            None
        }
    }
}

fn jurisdictions(ctx: &mut Ctx, codes: &HashSet<&str>, list: &[Spanned<String>]) -> Vec<String> {
    let mut out = Vec::new();
    for c in list {
        if codes.contains(c.get_ref().as_str()) {
            out.push(c.get_ref().clone());
        } else {
            ctx.err_at(
                c.span().start,
                format!(
                    "jurisdiction `{}` is not a code in {DIVISIONS_FILE}",
                    c.get_ref()
                ),
            );
        }
    }
    out
}

fn build_rule(
    ctx: &mut Ctx,
    raw: Spanned<RawRule>,
    laws: &BTreeMap<String, LegalRef>,
    codes: &HashSet<&str>,
) -> Option<Rule> {
    let mut raw = raw.into_inner();
    let before = ctx.errors.len();
    let at = raw.id.span().start;
    let id = raw.id.get_ref().clone();
    if id.trim().is_empty() {
        ctx.err_at(at, "rule id is empty");
    }
    let category = match raw.category.get_ref().parse::<Category>() {
        Ok(c) if c.is_posting_level() => Some(c),
        Ok(c) => {
            ctx.err_at(
                raw.category.span().start,
                format!("rule `{id}`: category `{c}` is raised from operator pages, not by a posting rule"),
            );
            None
        }
        Err(e) => {
            ctx.err_at(raw.category.span().start, format!("rule `{id}`: {e}"));
            None
        }
    };
    let severity = severity(ctx, &raw.severity);
    if raw.legal_basis.is_empty() {
        ctx.err_at(at, format!("rule `{id}`: no legal_basis"));
    }
    let legal_basis: Vec<LegalRef> = raw
        .legal_basis
        .iter()
        .filter_map(|k| legal(ctx, laws, k))
        .collect();
    let penalty = match &raw.penalty {
        Some(k) => legal(ctx, laws, k),
        None => {
            ctx.err_at(
                at,
                format!("rule `{id}`: no penalty (the article that sanctions it)"),
            );
            None
        }
    };
    let juris = jurisdictions(ctx, codes, &raw.jurisdictions);
    if severity == Some(Severity::LocallyIllegal) && juris.is_empty() {
        ctx.err_at(
            raw.severity.span().start,
            format!("rule `{id}`: a locally_illegal rule must name its jurisdictions"),
        );
    }
    let local: Vec<LocalSeverity> = raw
        .local
        .iter()
        .filter_map(|l| build_local(ctx, &id, l, laws, codes))
        .collect();
    let confidence = raw.confidence.unwrap_or(0.9);
    if !(0.0..=1.0).contains(&confidence) {
        ctx.err_at(
            at,
            format!("rule `{id}`: confidence {confidence} is not within 0..1"),
        );
    }
    let kind = raw
        .kind
        .as_ref()
        .map(|k| k.get_ref().as_str())
        .unwrap_or("phrase");
    let body = match kind {
        "phrase" => {
            if !raw.signal.is_empty() || raw.threshold.is_some() || raw.fit.is_some() {
                ctx.err_at(
                    at,
                    format!(
                        "rule `{id}`: signals, threshold and fit belong to kind = \"signature\""
                    ),
                );
            }
            build_phrase(ctx, at, &id, take_phrase!(raw)).map(RuleBody::Phrase)
        }
        "signature" => build_signature(ctx, at, &id, raw.threshold, raw.signal).map(|mut b| {
            if let RuleBody::Signature(sig) = &mut b {
                sig.fit = raw.fit.take();
            }
            b
        }),
        other => {
            let at = raw.kind.as_ref().map(|k| k.span().start).unwrap_or(at);
            ctx.err_at(
                at,
                format!("rule `{id}`: kind `{other}` is not `phrase` or `signature`"),
            );
            None
        }
    };
    let examples = match raw.examples {
        Some(ex) => {
            let span = ex.span();
            let ex = ex.into_inner();
            if ex.must_match.len() < MIN_EXAMPLES || ex.no_match.len() < MIN_EXAMPLES {
                ctx.err_at(
                    span.start,
                    format!(
                        "rule `{id}`: needs at least {MIN_EXAMPLES} `match` and {MIN_EXAMPLES} `no_match` examples (has {} and {})",
                        ex.must_match.len(),
                        ex.no_match.len()
                    ),
                );
            }
            Examples {
                must_match: ex.must_match,
                no_match: ex.no_match,
            }
        }
        None => {
            ctx.err_at(
                at,
                format!("rule `{id}`: has no examples; a rule without examples does not load"),
            );
            Examples::default()
        }
    };
    if ctx.errors.len() != before {
        return None;
    }
    let line = ctx.line_of(at);
    Some(Rule {
        title: raw.title.unwrap_or_else(|| id.clone()),
        id,
        category: category?,
        severity: severity?,
        description: raw.description,
        legal_basis,
        penalty,
        confidence,
        body: body?,
        jurisdictions: juris,
        local,
        examples,
        origin: Origin {
            file: ctx.file.clone(),
            line,
        },
    })
}

fn build_local(
    ctx: &mut Ctx,
    id: &str,
    l: &Spanned<RawLocal>,
    laws: &BTreeMap<String, LegalRef>,
    codes: &HashSet<&str>,
) -> Option<LocalSeverity> {
    let at = l.span().start;
    let l = l.get_ref();
    let juris = jurisdictions(ctx, codes, &l.jurisdictions);
    if juris.is_empty() {
        ctx.err_at(
            at,
            format!("rule `{id}`: a local escalation must name its jurisdictions"),
        );
    }
    Some(LocalSeverity {
        jurisdictions: juris,
        severity: severity(ctx, &l.severity)?,
        legal_basis: l
            .legal_basis
            .iter()
            .filter_map(|k| legal(ctx, laws, k))
            .collect(),
        penalty: l.penalty.as_ref().and_then(|k| legal(ctx, laws, k)),
    })
}

fn build_signature(
    ctx: &mut Ctx,
    at: usize,
    id: &str,
    threshold: Option<f64>,
    raw: Vec<Spanned<RawSignal>>,
) -> Option<RuleBody> {
    let Some(threshold) = threshold.filter(|t| *t > 0.0) else {
        ctx.err_at(
            at,
            format!("rule `{id}`: a signature needs a positive threshold"),
        );
        return None;
    };
    let mut signals = Vec::new();
    for s in raw {
        let span = s.span();
        let mut s = s.into_inner();
        let has_phrase = !s.anchors.is_empty() || !s.patterns.is_empty();
        let phrase = if has_phrase {
            Some(build_phrase(ctx, span.start, id, take_phrase!(s))?)
        } else {
            None
        };
        if phrase.is_none() && s.salary_monthly_min.is_none() {
            ctx.err_at(
                span.start,
                format!(
                    "rule `{id}`: signal `{}` has neither patterns nor salary_monthly_min",
                    s.name
                ),
            );
        }
        signals.push(Signal {
            name: s.name,
            weight: s.weight,
            phrase,
            salary_monthly_min: s.salary_monthly_min,
        });
    }
    if !signals.iter().any(|s| s.phrase.is_some()) {
        ctx.err_at(
            at,
            format!("rule `{id}`: a signature needs at least one phrase signal"),
        );
        return None;
    }
    Some(RuleBody::Signature(Signature {
        threshold,
        signals,
        fit: None,
    }))
}

#[cfg(test)]
mod tests;
