//! Generated postings with known rings, for the grouping's tests and benchmark: each ring
//! reuses one contact handle, written in a different evasive form from posting to
//! posting, across sites and publisher accounts; the other postings carry handles of their
//! own; every site prints its own hotline on every page it serves.

use xuncha_core::{Category, Lead, Posting, PostingRef, Publisher, PublisherKind, Severity};

/// A generated posting and the ring it belongs to (`None`: no ring).
#[derive(Debug, Clone)]
pub struct Generated {
    /// The posting.
    pub posting: Posting,
    /// Its ring.
    pub ring: Option<usize>,
    /// The ring's key as the grouping should find it (`phone:…`, `wechat:…`).
    pub key: Option<String>,
}

/// The sites of the generated set, each with its hotline.
pub const SITES: [(&str, &str); 6] = [
    ("jobboard", "400-820-1234"),
    ("fenlei", "4006-117-365"),
    ("qiuzhi", "400 900 5566"),
    ("kuaipin", "400-6688-123"),
    ("zhaogong", "4008-123-456"),
    ("tongcheng", "400-1010-258"),
];

const TITLES: &[&str] = &[
    "普工",
    "仓库管理员",
    "客服专员",
    "网络兼职",
    "打字员",
    "快递分拣",
    "服务员",
    "厨师",
    "销售代表",
    "司机",
    "保安",
    "文员",
    "主播",
    "电工",
    "焊工",
    "保洁",
    "收银员",
    "前台",
    "外卖骑手",
    "装修工",
    "数据录入",
    "手工活外发",
    "店长",
    "会计",
    "导购",
];

const PHRASES: &[&str] = &[
    "工作轻松，时间自由",
    "包吃包住，月休四天",
    "无需经验，公司统一培训",
    "五险一金，带薪年假",
    "在家就能做，手机即可操作",
    "日结工资，当天到账",
    "有叉车证者优先",
    "负责货物出入库与盘点",
    "熟练使用办公软件",
    "要求吃苦耐劳，服从安排",
    "环境干净，空调车间",
    "提供住宿，水电全免",
    "节假日三倍工资",
    "长期稳定，多劳多得",
    "接受夜班，两班倒",
    "年底双薪，季度奖金",
    "有相关工作经验者优先",
    "普通话标准，沟通能力强",
    "身体健康，无不良嗜好",
    "交通便利，地铁直达",
    "试用期一个月，转正加薪",
    "计件工资，上不封顶",
    "负责门店日常运营",
    "协助主管完成销售任务",
    "公司提供工作服",
    "周末双休，朝九晚五",
    "熟悉本地路线",
    "持有驾照三年以上",
    "会做家常菜，干净卫生",
    "负责接听客户电话，处理售后问题",
    "可兼职，可全职",
    "宝妈学生均可",
    "名额有限，先到先得",
    "专业团队带教，零基础入门",
    "每月按时发薪，绝不拖欠",
    "晋升空间大，管理岗位多",
    "男女不限，年龄十八到五十岁",
    "需要自备电脑",
    "负责短视频拍摄剪辑",
    "入职即签劳动合同",
];

const PLACES: &[&str] = &[
    "深圳市宝安区",
    "广州市白云区",
    "东莞市长安镇",
    "苏州工业园区",
    "杭州市余杭区",
    "成都市高新区",
    "武汉市洪山区",
    "郑州市金水区",
    "西安市雁塔区",
    "上海市松江区",
];

const SYLLABLES: &[&str] = &[
    "华", "盛", "鑫", "达", "恒", "泰", "远", "航", "嘉", "瑞", "兴", "隆", "博", "创", "德", "信",
    "宏", "源", "通", "和", "丰", "启", "明", "诚", "佳", "顺", "凯", "晟", "荣", "誉",
];

fn pick<'a, T>(rng: &mut fastrand::Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.usize(..xs.len())]
}

/// A company name unique to `n`: syllables for the look, `n` spelled in them for the
/// uniqueness.
fn company(rng: &mut fastrand::Rng, n: usize) -> String {
    let mut name = String::new();
    name.push_str(SYLLABLES[rng.usize(..SYLLABLES.len())]);
    let mut k = n;
    loop {
        name.push_str(SYLLABLES[k % SYLLABLES.len()]);
        k /= SYLLABLES.len();
        if k == 0 {
            break;
        }
    }
    format!(
        "{name}{}有限公司",
        pick(rng, &["科技", "实业", "劳务", "电子", "贸易"])
    )
}

const CN: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/// A mobile number in one of the ways rings write it.
fn phone_form(rng: &mut fastrand::Rng, d: &str) -> String {
    let cn: String = d.chars().map(|c| CN[c as usize - '0' as usize]).collect();
    let wide: String = d
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
        .collect();
    let yao = cn.replace('一', "幺");
    let spaced: String = d.chars().map(|c| format!("{c} ")).collect();
    let forms = [
        format!("电话{d}"),
        format!("联系 {} {} {}", &d[..3], &d[3..7], &d[7..]),
        format!("手机：{}-{}-{}", &d[..3], &d[3..7], &d[7..]),
        format!("薇：{cn}"),
        format!("加V{d}"),
        format!("vx：{} {} {}", &d[..3], &d[3..7], &d[7..]),
        format!("电话 {wide}"),
        format!("微信同号 {yao}"),
        format!("咨询 {}{}", &d[..3], cn.chars().skip(3).collect::<String>()),
        format!("tel {}", spaced.trim_end()),
        format!("Tel: +86 {}", d),
        format!("联系 {}\u{200B}{}", &d[..5], &d[5..]),
    ];
    forms[rng.usize(..forms.len())].clone()
}

fn wechat_form(rng: &mut fastrand::Rng, id: &str) -> String {
    let wide: String = id
        .to_uppercase()
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap_or(c))
        .collect();
    let forms = [
        format!("微信：{id}"),
        format!("薇信 {id}"),
        format!("VX：{wide}"),
        format!("威信号 {id}"),
        format!("加V：{id}"),
        format!("wx: {}", id.to_uppercase()),
    ];
    forms[rng.usize(..forms.len())].clone()
}

fn qq_form(rng: &mut fastrand::Rng, n: &str) -> String {
    let spaced: String = n.chars().map(|c| format!("{c} ")).collect();
    let forms = [
        format!("QQ：{n}"),
        format!("扣扣 {}", spaced.trim_end()),
        format!("企鹅号 {} {}", &n[..4], &n[4..]),
        format!("简历发 {n}@qq.com"),
        format!("Q：{n}"),
    ];
    forms[rng.usize(..forms.len())].clone()
}

fn telegram_form(rng: &mut fastrand::Rng, name: &str) -> String {
    let forms = [
        format!("TG：@{name}"),
        format!("纸飞机 @{name}"),
        format!("https://t.me/{name}"),
        format!("telegram: {name}"),
    ];
    forms[rng.usize(..forms.len())].clone()
}

fn mobile(rng: &mut fastrand::Rng) -> String {
    format!("1{}{:09}", rng.u8(3..=9), rng.u64(..1_000_000_000))
}

fn text(rng: &mut fastrand::Rng) -> String {
    let mut parts: Vec<&str> = Vec::new();
    while parts.len() < rng.usize(5..=8) {
        let p = *pick(rng, PHRASES);
        if !parts.contains(&p) {
            parts.push(p);
        }
    }
    let lo = rng.usize(3..=9) * 1000;
    format!(
        "{}。月薪{}-{}元，{}年{}月起招，地址{}。",
        parts.join("，"),
        lo,
        lo + rng.usize(1..=6) * 1000,
        rng.usize(2024..=2026),
        rng.usize(1..=12),
        pick(rng, PLACES)
    )
}

/// `total` postings of which `rings` rings of 10 to 40 postings each; the same `seed`
/// gives the same set.
pub fn postings(seed: u64, total: usize, rings: usize) -> Vec<Generated> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = Vec::with_capacity(total);
    let mut n = 0;
    let mut next_id = |site: &str| {
        n += 1;
        format!("{site}-{n:05}")
    };
    for r in 0..rings.min(total / 10) {
        let (kind, value) = match r % 4 {
            0 | 1 => ("phone", mobile(&mut rng)),
            2 => ("wechat", format!("ring{r}_{}", rng.u32(1000..9999))),
            _ if r % 8 == 3 => ("qq", format!("{}", rng.u64(10_000_000..9_999_999_999))),
            _ => ("telegram", format!("ring{r}_fast{}", rng.u32(100..999))),
        };
        let accounts: Vec<String> = (0..rng.usize(2..=6))
            .map(|k| {
                format!(
                    "{}{}工作室{}号",
                    pick(&mut rng, SYLLABLES),
                    pick(&mut rng, SYLLABLES),
                    r * 10 + k
                )
            })
            .collect();
        for _ in 0..rng.usize(10..=40) {
            let (site, hotline) = *pick(&mut rng, &SITES);
            let contact = match kind {
                "phone" => phone_form(&mut rng, &value),
                "wechat" => wechat_form(&mut rng, &value),
                "qq" => qq_form(&mut rng, &value),
                _ => telegram_form(&mut rng, &value),
            };
            let id = next_id(site);
            let account = pick(&mut rng, &accounts).clone();
            let company = company(&mut rng, out.len());
            out.push(Generated {
                posting: posting(&mut rng, id, site, hotline, account, company, contact),
                ring: Some(r),
                key: Some(format!("{kind}:{value}")),
            });
        }
    }
    while out.len() < total {
        let (site, hotline) = *pick(&mut rng, &SITES);
        let n = out.len();
        let own = mobile(&mut rng);
        let contact = phone_form(&mut rng, &own);
        let id = next_id(site);
        let publisher = format!("{}招聘{n}", pick(&mut rng, SYLLABLES));
        let company = company(&mut rng, n);
        out.push(Generated {
            posting: posting(&mut rng, id, site, hotline, publisher, company, contact),
            ring: None,
            key: None,
        });
    }
    rng.shuffle(&mut out);
    out.truncate(total);
    out
}

fn posting(
    rng: &mut fastrand::Rng,
    id: String,
    site: &str,
    hotline: &str,
    publisher: String,
    company: String,
    contact: String,
) -> Posting {
    Posting {
        url: Some(format!("https://{site}.example/job/{id}")),
        source: Some(site.to_string()),
        title: Some(format!("急招{}", pick(rng, TITLES))),
        company: Some(company),
        publisher: Some(Publisher {
            name: Some(publisher),
            kind: PublisherKind::Unknown,
            licence_no: None,
        }),
        description: Some(format!("{}{}", text(rng), contact)),
        contact: Some(format!("本站客服热线 {hotline}（工作日9:00-18:00）")),
        fetched_at: Some(format!("2026-11-{:02}T08:00:00Z", rng.usize(1..=28))),
        id,
        ..Posting::default()
    }
}

/// The lead a scan would file for `p` in `category`, carrying the posting's campaign keys
/// as the judge writes them.
pub fn lead(p: &Posting, category: Category) -> Lead {
    let at = p.fetched_at.clone().unwrap_or_default();
    let mut leads = vec![Lead {
        schema: xuncha_core::LEAD_SCHEMA.into(),
        lead_id: xuncha_core::lead_id(&p.id, category, &p.compute_content_sha256()),
        category,
        severity: Severity::Illegal,
        score: 0.9,
        findings: Vec::new(),
        findings_unexamined: 0,
        legal_basis: Vec::new(),
        penalty: None,
        posting: PostingRef::of(p, &p.compute_content_sha256()),
        detected_at: at,
        rules_version: "synthetic".into(),
        scanner_version: "synthetic".into(),
        licence: None,
    }];
    crate::annotate(&mut leads, p);
    leads.pop().expect("one lead")
}

/// Pairwise precision and recall of a grouping against the rings: over every pair of
/// postings, a pair put in one group is right if both are of one ring; a pair of one ring
/// is found if both were put in one group. `groups[i]` is the group of posting `i`.
pub fn pairwise(rings: &[Option<usize>], groups: &[u64]) -> (f64, f64) {
    use std::collections::HashMap;
    let mut by_group: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, g) in groups.iter().enumerate() {
        by_group.entry(*g).or_default().push(i);
    }
    let (mut grouped, mut right) = (0u64, 0u64);
    for members in by_group.values() {
        for (a, &i) in members.iter().enumerate() {
            for &j in &members[a + 1..] {
                grouped += 1;
                if rings[i].is_some() && rings[i] == rings[j] {
                    right += 1;
                }
            }
        }
    }
    let mut per_ring: HashMap<usize, u64> = HashMap::new();
    for r in rings.iter().flatten() {
        *per_ring.entry(*r).or_default() += 1;
    }
    let truth: u64 = per_ring.values().map(|n| n * (n - 1) / 2).sum();
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    (ratio(right, grouped), ratio(right, truth))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ring_posting_carries_its_ring_key() {
        let set = postings(7, 600, 20);
        assert_eq!(set.len(), 600);
        for g in set.iter().filter(|g| g.ring.is_some()) {
            let keys: Vec<String> = crate::handles(&g.posting).iter().map(|h| h.key()).collect();
            let want = g.key.as_ref().unwrap();
            assert!(
                keys.contains(want),
                "{want} not in {keys:?}: {:?}",
                g.posting.description
            );
        }
    }

    #[test]
    fn pairwise_scores_count_pairs() {
        let rings = [Some(0), Some(0), Some(1), None];
        assert_eq!(pairwise(&rings, &[1, 1, 2, 3]), (1.0, 1.0));
        let (p, r) = pairwise(&rings, &[1, 1, 1, 3]);
        assert!((p - 1.0 / 3.0).abs() < 1e-9 && r == 1.0);
        assert_eq!(pairwise(&rings, &[1, 2, 3, 4]), (1.0, 0.0));
    }
}
