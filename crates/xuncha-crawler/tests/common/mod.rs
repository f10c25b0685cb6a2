//! A fixture job board served over real HTTP on 127.0.0.1, shaped like the Chinese sites
//! the crawler meets: a paginated UTF-8 job board (the layout `config/sites/jobboard.toml`
//! describes), a GBK classifieds site (`config/sites/fenlei-gbk.toml`), and pages that
//! misbehave (429, 500, hangs, endless bodies, a gzip bomb, redirect loops, a PDF).
//!
//! Shared by the integration tests, the benchmark's fixture server
//! (`examples/fixture_site.rs`), and the Kafka frontier's test in `xuncha-pipeline`
//! (included with `#[path]`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

const LIST: &str = include_str!("../fixtures/jobboard/list.html");
const ITEM: &str = include_str!("../fixtures/jobboard/item.html");
const DETAIL: &str = include_str!("../fixtures/jobboard/detail.html");
const HOME: &str = include_str!("../fixtures/jobboard/home.html");
const LICENCE: &str = include_str!("../fixtures/jobboard/licence.html");
const FL_LIST: &str = include_str!("../fixtures/fenlei/list.html");
const FL_ITEM: &str = include_str!("../fixtures/fenlei/item.html");
const FL_DETAIL: &str = include_str!("../fixtures/fenlei/detail.html");

/// The first posting id of the job board.
pub const FIRST_ID: u32 = 1001;

/// What a posting page of the job board answers, for rechecks of postings that were
/// corrected, taken down or broken after they were crawled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageState {
    /// The page as crawled (and as edited).
    Online,
    /// The flagged requirements replaced by lawful ones ([`CORRECTED`]).
    Corrected,
    /// 404.
    Removed,
    /// 410.
    Deleted,
    /// 500, every time.
    Failing,
    /// A redirect to the home page, as boards do with postings taken down.
    ToHome,
}

/// The requirements of a corrected posting: nothing any rule flags.
pub const CORRECTED: &str = "1. 男女不限，年龄不限；<br>2. 能适应两班倒；";

/// The fixture site's state: its size, the version of each posting (bump one to
/// "edit" it), and what was requested.
pub struct Fixture {
    pub jobs: u32,
    pub per_page: u32,
    versions: Mutex<HashMap<u32, u32>>,
    states: Mutex<HashMap<u32, PageState>>,
    hits: Mutex<HashMap<String, usize>>,
    agents: Mutex<HashMap<String, usize>>,
    requests: AtomicU64,
    window: Mutex<Option<(Instant, Instant)>>,
}

impl Fixture {
    pub fn new(jobs: u32, per_page: u32) -> Arc<Fixture> {
        Arc::new(Fixture {
            jobs,
            per_page,
            versions: Mutex::new(HashMap::new()),
            states: Mutex::new(HashMap::new()),
            hits: Mutex::new(HashMap::new()),
            agents: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
            window: Mutex::new(None),
        })
    }

    /// Times `path_and_query` was requested.
    pub fn hits(&self, path_and_query: &str) -> usize {
        self.hits
            .lock()
            .unwrap()
            .get(path_and_query)
            .copied()
            .unwrap_or(0)
    }

    /// Requests whose path starts with `prefix`.
    pub fn hits_under(&self, prefix: &str) -> usize {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v)
            .sum()
    }

    /// Requests so far per `User-Agent` header (which crawler asked).
    pub fn agents(&self) -> HashMap<String, usize> {
        self.agents.lock().unwrap().clone()
    }

    /// Every request so far.
    pub fn total_hits(&self) -> usize {
        self.hits.lock().unwrap().values().sum()
    }

    /// Edits posting `id`: its page changes, and so do its validators.
    pub fn edit(&self, id: u32) {
        *self.versions.lock().unwrap().entry(id).or_default() += 1;
    }

    /// Sets what posting `id`'s page answers from now on.
    pub fn set_state(&self, id: u32, state: PageState) {
        self.states.lock().unwrap().insert(id, state);
    }

    fn state(&self, id: u32) -> PageState {
        self.states
            .lock()
            .unwrap()
            .get(&id)
            .copied()
            .unwrap_or(PageState::Online)
    }

    fn version(&self, id: u32) -> u32 {
        self.versions.lock().unwrap().get(&id).copied().unwrap_or(0)
    }

    fn pages(&self) -> u32 {
        self.jobs.div_ceil(self.per_page)
    }
}

/// Starts the site on 127.0.0.1 (port 0: any free one) and returns its address.
pub async fn serve(fixture: Arc<Fixture>, port: u16) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router(fixture)).await.ok();
    });
    addr
}

pub fn router(fx: Arc<Fixture>) -> Router {
    Router::new()
        .route("/", get(|| async { html(HOME.to_owned()) }))
        .route("/robots.txt", get(robots))
        .route(
            "/about/licence.html",
            get(|| async { html(LICENCE.to_owned()) }),
        )
        .route("/jobs/", get(list))
        .route("/job/{file}", get(detail))
        .route("/gbk/{file}", get(gbk))
        .route("/flaky/{file}", get(flaky))
        .route("/hang/{file}", get(hang))
        .route("/big/{file}", get(big))
        .route("/br/{file}", get(brotli))
        .route("/redirect/{file}", get(redirect))
        .route("/redirect/chain/{n}", get(chain))
        .route("/misc/{file}", get(misc))
        .route("/__stats", get(stats))
        .route("/__reset", get(reset))
        .layer(middleware::from_fn_with_state(fx.clone(), count))
        .with_state(fx)
}

async fn count(State(fx): State<Arc<Fixture>>, req: Request, next: Next) -> Response {
    let key = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    if !key.starts_with("/__") {
        *fx.hits.lock().unwrap().entry(key).or_default() += 1;
        let agent = req
            .headers()
            .get(header::USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        *fx.agents.lock().unwrap().entry(agent).or_default() += 1;
        fx.requests.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut w = fx.window.lock().unwrap();
        *w = Some(w.map_or((now, now), |(first, _)| (first, now)));
    }
    next.run(req).await
}

/// Requests served and the time from the first to the last, for the benchmark.
async fn stats(State(fx): State<Arc<Fixture>>) -> String {
    let window = fx
        .window
        .lock()
        .unwrap()
        .map_or(0.0, |(a, b)| (b - a).as_secs_f64());
    format!(
        "{{\"requests\":{},\"first_to_last_secs\":{window:.6}}}\n",
        fx.requests.load(Ordering::Relaxed)
    )
}

/// Forgets the requests counted so far (between benchmark runs).
async fn reset(State(fx): State<Arc<Fixture>>) -> &'static str {
    fx.hits.lock().unwrap().clear();
    fx.agents.lock().unwrap().clear();
    fx.requests.store(0, Ordering::Relaxed);
    *fx.window.lock().unwrap() = None;
    "ok\n"
}

async fn robots() -> &'static str {
    "# 直聘网 robots.txt\nUser-agent: *\nDisallow: /private/\nDisallow: /*?*sort=\n\nSitemap: /sitemap.xml\n"
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    out
}

/// The posting `id` as the job board shows it.
pub struct Job {
    pub id: u32,
    pub title: &'static str,
    pub company: &'static str,
    pub salary: &'static str,
    pub area: &'static str,
    pub location: String,
    pub description: String,
    pub contact: &'static str,
    pub publisher: &'static str,
    pub licence: &'static str,
    pub industry: &'static str,
}

/// The requirements of each posting (by position), several of them unlawful.
pub const REQUIREMENTS: &[&str] = &[
    "1. 年龄18-35岁，限男性；<br>2. 能适应两班倒；",
    "1. 女性优先，形象气质佳；<br>2. 已婚已育者优先；",
    "1. 入职需交押金300元（工衣费），满三个月退还；<br>2. 身体健康；",
    "1. 男女不限，年龄不限；<br>2. 有无经验均可，公司提供免费培训；",
    "1. 日结工资，多劳多得，加微信详聊；<br>2. 无需经验，在家即可操作；",
    "1. 本科及以上学历，计算机相关专业；<br>2. 熟悉Spring Boot、MySQL；",
];

pub fn job(id: u32, version: u32) -> Job {
    const TITLES: &[&str] = &[
        "普工（长白班）",
        "仓库管理员",
        "前台文员",
        "电话销售",
        "电工",
        "客服专员",
        "叉车司机",
        "质检员",
        "行政助理",
        "外卖骑手",
        "Java开发工程师",
        "出纳",
    ];
    const COMPANIES: &[(&str, &str)] = &[
        ("深圳市华强电子科技有限公司", "电子/半导体"),
        ("东莞市长安精密五金制品厂", "制造业"),
        ("深圳市前海优才人力资源有限公司", "人力资源服务"),
        ("深圳市鹏程物流有限公司", "物流/仓储"),
        ("广州市天河区星辰贸易有限公司", "贸易/进出口"),
    ];
    const SALARIES: &[&str] = &[
        "5000-8000元/月",
        "6-8K·13薪",
        "4500-6000元",
        "150-200元/天",
        "8-12K",
        "面议",
    ];
    const AREAS: &[(&str, &str)] = &[
        ("深圳·宝安区", "深圳市宝安区福永街道福海工业区A栋"),
        ("深圳·南山区", "深圳市南山区科技园南区高新南七道"),
        ("东莞·长安镇", "东莞市长安镇乌沙社区兴发南路"),
        ("广州·天河区", "广州市天河区天河路385号"),
    ];
    let i = (id - FIRST_ID) as usize;
    let (company, industry) = COMPANIES[i % COMPANIES.len()];
    let (area, location) = AREAS[i % AREAS.len()];
    let mut description = format!(
        "<p>岗位职责：</p><p>1. 负责{}相关工作，服从主管安排；<br>2. 做好交接班记录。</p>\
         <p>任职要求：</p><p>{}</p><p>福利待遇：五险一金、包住、节日福利。</p>",
        TITLES[i % TITLES.len()],
        REQUIREMENTS[i % REQUIREMENTS.len()],
    );
    if version > 0 {
        description.push_str(&format!("<p>（第{version}次更新：急招，名额有限）</p>"));
    }
    Job {
        id,
        title: TITLES[i % TITLES.len()],
        company,
        salary: SALARIES[i % SALARIES.len()],
        area,
        location: location.to_owned(),
        description,
        contact: if i.is_multiple_of(2) {
            "王先生 138****5678"
        } else {
            "HR 李女士 0755-2345****"
        },
        publisher: if i.is_multiple_of(3) {
            "张女士 · 招聘经理"
        } else {
            "陈先生 · 人事主管"
        },
        licence: if COMPANIES[i % COMPANIES.len()].1 == "人力资源服务" {
            "人力资源服务许可证：440306210045"
        } else {
            ""
        },
        industry,
    }
}

/// The page of posting `id` at `version`.
pub fn detail_page(id: u32, version: u32) -> String {
    let j = job(id, version);
    let id_s = j.id.to_string();
    let cid = (j.id % 97).to_string();
    fill(
        DETAIL,
        &[
            ("id", &id_s),
            ("cid", &cid),
            ("title", j.title),
            ("company", j.company),
            ("salary", j.salary),
            ("area", j.area),
            ("location", &j.location),
            ("description", &j.description),
            ("contact", j.contact),
            ("publisher", j.publisher),
            ("licence", j.licence),
            ("industry", j.industry),
        ],
    )
}

async fn list(
    State(fx): State<Arc<Fixture>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let page: u32 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let pages = fx.pages();
    if page == 0 || page > pages {
        return StatusCode::NOT_FOUND.into_response();
    }
    let first = FIRST_ID + (page - 1) * fx.per_page;
    let last = (first + fx.per_page).min(FIRST_ID + fx.jobs);
    let mut items = String::new();
    for id in first..last {
        let j = job(id, 0);
        // Tracking parameters, as real boards add them; the canonical URL drops them.
        let href = format!("/job/{id}.html?spm=list.{page}");
        items.push_str(&fill(
            ITEM,
            &[
                ("href", &href),
                ("title", j.title),
                ("area", j.area),
                ("salary", j.salary),
                ("cid", &(id % 97).to_string()),
                ("company", j.company),
            ],
        ));
    }
    if page == 2 {
        // A page robots.txt disallows, a link off the allowed hosts, a link seen before.
        for href in [
            "/private/job/999.html",
            "http://jobs.other.example/job/1.html",
            &format!("/job/{FIRST_ID}.html?spm=list.1"),
        ] {
            items.push_str(&fill(
                ITEM,
                &[
                    ("href", href),
                    ("title", "推荐职位"),
                    ("area", ""),
                    ("salary", ""),
                    ("cid", "0"),
                    ("company", ""),
                ],
            ));
        }
    }
    let prev = if page > 1 {
        format!(
            "<a class=\"prev\" href=\"/jobs/?city=440300&page={}\">上一页</a>",
            page - 1
        )
    } else {
        String::new()
    };
    let next = if page < pages {
        format!(
            "<a class=\"next\" href=\"/jobs/?city=440300&page={}\">下一页</a>",
            page + 1
        )
    } else {
        String::new()
    };
    html(fill(
        LIST,
        &[
            ("page", &page.to_string()),
            ("items", &items),
            ("prev", &prev),
            ("next", &next),
        ],
    ))
}

/// ETag on ids ≡ 0 (mod 3), Last-Modified on ids ≡ 1, no validator on the rest (only the
/// content hash can tell those are unchanged).
async fn detail(
    State(fx): State<Arc<Fixture>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(id) = file
        .strip_suffix(".html")
        .and_then(|s| s.parse::<u32>().ok())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !(FIRST_ID..FIRST_ID + fx.jobs).contains(&id) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let v = fx.version(id);
    let page = match fx.state(id) {
        PageState::Online => detail_page(id, v),
        PageState::Corrected => {
            let requirement = REQUIREMENTS[(id - FIRST_ID) as usize % REQUIREMENTS.len()];
            detail_page(id, v).replace(requirement, CORRECTED)
        }
        PageState::Removed => return StatusCode::NOT_FOUND.into_response(),
        PageState::Deleted => return StatusCode::GONE.into_response(),
        PageState::Failing => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "服务器繁忙").into_response()
        }
        PageState::ToHome => return Redirect::temporary("/").into_response(),
    };
    let mut resp = html(page);
    match id % 3 {
        0 => {
            let etag = format!("\"{id}-{v}\"");
            if headers
                .get(header::IF_NONE_MATCH)
                .and_then(|h| h.to_str().ok())
                == Some(etag.as_str())
            {
                return StatusCode::NOT_MODIFIED.into_response();
            }
            resp.headers_mut()
                .insert(header::ETAG, HeaderValue::from_str(&etag).unwrap());
        }
        1 => {
            let lm = format!("Mon, 01 Jun 2026 08:{:02}:00 GMT", v % 60);
            if headers
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|h| h.to_str().ok())
                == Some(lm.as_str())
            {
                return StatusCode::NOT_MODIFIED.into_response();
            }
            resp.headers_mut()
                .insert(header::LAST_MODIFIED, HeaderValue::from_str(&lm).unwrap());
        }
        _ => {}
    }
    resp
}

/// The GBK classifieds site: `list_1` → `list_2`; each posting declares its charset a
/// different way (meta, HTTP header overriding a wrong meta, nothing at all, http-equiv).
async fn gbk(Path(file): Path<String>) -> Response {
    let gbk_response = |content_type: &'static str, text: String| {
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
        assert!(!unmappable, "fixture text must be GBK-encodable");
        ([(header::CONTENT_TYPE, content_type)], bytes.into_owned()).into_response()
    };
    let item = |n: u32, title: &str, salary: &str, company: &str| {
        fill(
            FL_ITEM,
            &[
                ("href", &format!("job_{n}.html")),
                ("title", title),
                ("salary", salary),
                ("company", company),
            ],
        )
    };
    match file.as_str() {
        "list_1.html" => {
            let items = [
                item(1, "招聘普工包吃住", "5000-7000元", "东莞市长安镇宏达电子厂"),
                item(2, "急招保安", "4000-5500元", "东莞市某物业管理有限公司"),
                item(3, "招聘服务员", "4500元", "东莞市长安镇海鲜酒楼"),
            ]
            .concat();
            let next = "<a class=\"next\" href=\"list_2.html\">下一页</a>";
            gbk_response(
                "text/html",
                fill(FL_LIST, &[("items", &items), ("next", next)]),
            )
        }
        "list_2.html" => {
            let items = item(4, "招聘仓管", "5500元", "东莞市凤岗镇永顺物流");
            gbk_response(
                "text/html",
                fill(FL_LIST, &[("items", &items), ("next", "")]),
            )
        }
        "job_1.html" | "job_2.html" | "job_3.html" | "job_4.html" => {
            let n: u32 = file[4..5].parse().unwrap();
            let (title, salary, company) = [
                ("招聘普工包吃住", "5000-7000元", "东莞市长安镇宏达电子厂"),
                ("急招保安", "4000-5500元", "东莞市某物业管理有限公司"),
                ("招聘服务员", "4500元", "东莞市长安镇海鲜酒楼"),
                ("招聘仓管", "5500元", "东莞市凤岗镇永顺物流"),
            ][n as usize - 1];
            let (content_type, meta) = match n {
                1 => ("text/html", "<meta charset=\"gbk\">"),
                // The header wins over a page that wrongly says UTF-8.
                2 => ("text/html; charset=GB18030", "<meta charset=\"utf-8\">"),
                // No declaration anywhere: detected.
                3 => ("text/html", ""),
                _ => (
                    "text/html",
                    "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\" />",
                ),
            };
            let description = format!(
                "<p>{title}，要求：年龄18至45岁，身体健康，能吃苦耐劳。工作时间：早八晚八，月休四天。</p>\
                 <p>待遇：底薪加计件，包吃包住，满一年有年终奖。欢迎来电咨询或直接到厂面试。</p>"
            );
            let page = fill(
                FL_DETAIL,
                &[
                    ("meta", meta),
                    ("title", title),
                    ("company", company),
                    ("salary", salary),
                    ("location", "东莞市长安镇"),
                    ("description", &description),
                    ("contact", "0769-8533****"),
                ],
            );
            gbk_response(content_type, page)
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A list page linking to `hrefs`, in the job board's layout.
pub fn special_list(hrefs: &[&str]) -> Response {
    let items: String = hrefs
        .iter()
        .map(|h| {
            fill(
                ITEM,
                &[
                    ("href", h),
                    ("title", "职位"),
                    ("area", ""),
                    ("salary", ""),
                    ("cid", "0"),
                    ("company", ""),
                ],
            )
        })
        .collect();
    html(fill(
        LIST,
        &[("page", "1"), ("items", &items), ("prev", ""), ("next", "")],
    ))
}

/// 429 with `Retry-After: 1` the first time, then the page; 500 the first time, then the page.
async fn flaky(State(fx): State<Arc<Fixture>>, Path(file): Path<String>) -> Response {
    let first = fx.hits(&format!("/flaky/{file}")) <= 1;
    match file.as_str() {
        "list.html" => special_list(&["429.html", "500.html"]),
        "429.html" if first => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            "慢一点",
        )
            .into_response(),
        "500.html" if first => (StatusCode::INTERNAL_SERVER_ERROR, "服务器繁忙").into_response(),
        "429.html" => html(detail_page(FIRST_ID, 0)),
        "500.html" => html(detail_page(FIRST_ID + 1, 0)),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// No headers for a minute; or headers, then a body that never comes.
async fn hang(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "list.html" => special_list(&["headers.html", "body.html"]),
        "headers.html" => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            html(String::new())
        }
        "body.html" => {
            let stream = tokio_stream::pending::<Result<Bytes, std::io::Error>>();
            (
                [(header::CONTENT_TYPE, "text/html")],
                Body::from_stream(stream),
            )
                .into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A body that does not end (bounded at 1 GiB so a broken crawler cannot hang the test
/// forever), and 8 MiB of zeros gzipped to a few KiB.
async fn big(Path(file): Path<String>) -> Response {
    static BOMB: std::sync::OnceLock<Bytes> = std::sync::OnceLock::new();
    match file.as_str() {
        "list.html" => special_list(&["endless.html", "bomb.html", "padded.html"]),
        // A posting padded past the body limit, as one hiding from a crawler would be.
        "padded.html" => {
            let mut page = detail_page(FIRST_ID, 0);
            page.push_str(&" ".repeat(1 << 20));
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
        }
        "endless.html" => {
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let stream = tokio_stream::iter(
                std::iter::repeat_n(chunk, 16 * 1024).map(Ok::<_, std::io::Error>),
            );
            (
                [(header::CONTENT_TYPE, "text/html")],
                Body::from_stream(stream),
            )
                .into_response()
        }
        "bomb.html" => (
            [
                (header::CONTENT_TYPE, "text/html"),
                (header::CONTENT_ENCODING, "gzip"),
            ],
            BOMB.get_or_init(|| gzip_bomb(8 << 20)).clone(),
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A posting page and 8 MiB of zeros, both brotli-compressed (made with Python's
/// `brotli.compress`; the zeros take 14 bytes).
async fn brotli(Path(file): Path<String>) -> Response {
    let br = |bytes: &'static [u8]| {
        (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CONTENT_ENCODING, "br"),
            ],
            bytes,
        )
            .into_response()
    };
    match file.as_str() {
        "list.html" => special_list(&["job.html", "bomb.html"]),
        "job.html" => br(include_bytes!("../fixtures/jobboard/detail-1001.html.br")),
        "bomb.html" => br(include_bytes!("../fixtures/zeros-8MiB.br")),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn gzip_bomb(size: usize) -> Bytes {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..size / zeros.len() {
        enc.write_all(&zeros).unwrap();
    }
    Bytes::from(enc.finish().unwrap())
}

/// A two-page loop, and chains of `n` redirects ending at a posting.
async fn redirect(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "list.html" => special_list(&["loop-a.html", "chain/9", "chain/3"]),
        "loop-a.html" => Redirect::temporary("/redirect/loop-b.html").into_response(),
        "loop-b.html" => Redirect::temporary("/redirect/loop-a.html").into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn chain(Path(n): Path<u32>) -> Response {
    if n == 0 {
        html(detail_page(FIRST_ID + 2, 0))
    } else {
        Redirect::temporary(&format!("/redirect/chain/{}", n - 1)).into_response()
    }
}

/// A PDF (skipped without reading it) and a moved posting.
async fn misc(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "list.html" => special_list(&["report.pdf", "moved.html"]),
        "report.pdf" => (
            [(header::CONTENT_TYPE, "application/pdf")],
            vec![b'%'; 200_000],
        )
            .into_response(),
        "moved.html" => Redirect::permanent(&format!("/job/{}.html", FIRST_ID + 3)).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
