//! Invented agencies for tests, benchmarks and the sample list. Every name starts with
//! 示例 or 样例, every credit code has the division code `000000` (which no real
//! registering authority has), and numeric licence numbers start with `99` (no
//! province has that code), so none of them can be mistaken for a real organisation.

use crate::{CreditCode, Date, Entry};

/// Characters of the invented 字号 (trade names), three per name.
const SYLLABLES: &str =
    "安邦晨达丰恒嘉锦康乐明诺鹏启瑞盛泰同卫信益宇泽智众博诚德福广海华吉凯朗茂宁";
/// Industry words after the 字号.
const TRADES: [&str; 4] = ["人力资源", "人力资源服务", "人才服务", "职业介绍"];
/// Organisational forms, so names vary the way real lists do.
const FORMS: [&str; 3] = ["有限公司", "有限责任公司", "股份有限公司"];
/// Regions, as `(region cell, city name, authority)`.
pub const REGIONS: [(&str, &str, &str); 6] = [
    ("陕西省西安市", "西安", "西安市人力资源和社会保障局"),
    ("福建省厦门市", "厦门", "厦门市人力资源和社会保障局"),
    ("广东省广州市", "广州", "广州市人力资源和社会保障局"),
    ("四川省成都市", "成都", "成都市人力资源和社会保障局"),
    ("山东省济南市", "济南", "济南市行政审批服务局"),
    ("河南省郑州市", "郑州", "郑州市人力资源和社会保障局"),
];

/// A small deterministic generator (SplitMix64), so data is the same on every run.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// An invented, valid credit code: `91` (a company registered by the market regulator),
/// division `000000`, nine random characters and the check character.
pub fn credit_code(rng: &mut Rng) -> CreditCode {
    let alphabet: Vec<char> = crate::credit_code::ALPHABET.chars().collect();
    let mut s = String::from("91000000");
    for _ in 0..9 {
        s.push(alphabet[rng.below(alphabet.len() as u64) as usize]);
    }
    CreditCode::complete(&s).expect("generated from the alphabet")
}

/// The invented 字号 of agency `i`: 示例 or 样例 and three characters, distinct for
/// every `i`; past 2 × 37³ agencies a number is appended.
pub fn trade_name(i: usize) -> String {
    let syl: Vec<char> = SYLLABLES.chars().collect();
    let n = syl.len();
    let prefix = if i.is_multiple_of(2) {
        "示例"
    } else {
        "样例"
    };
    let j = i / 2;
    let mut s = String::from(prefix);
    s.push(syl[j % n]);
    s.push(syl[(j / n) % n]);
    s.push(syl[(j / n / n) % n]);
    if j >= n * n * n {
        s.push_str(&(j / (n * n * n)).to_string());
    }
    s
}

/// The licence-number formats published lists use, made up: a 12-digit
/// division-and-serial number, a division + `RL` + serial, a Guangdong-style
/// `职介证字[年]第…号`, a Beijing-style `(京)人服证字[年]第…号`.
pub fn licence_no(i: usize, rng: &mut Rng) -> String {
    let serial = rng.below(100_000_000);
    match i % 4 {
        0 => format!("99{:04}{:06}", rng.below(10_000), serial % 1_000_000),
        1 => format!("99{:04}RL{:04}", rng.below(10_000), serial % 10_000),
        2 => format!("职介证字[{}]第{:08}号", 2019 + i % 6, serial),
        _ => format!("(示)人服证字[{}]第{:010}号", 2019 + i % 6, serial),
    }
}

/// `n` invented agencies, deterministic for a seed. Every tenth has a licence that
/// expired before 2026; every seventh has a scope without 网络招聘服务; the rest are
/// valid until 2027–2031 or open-ended.
pub fn agencies(n: usize, seed: u64) -> Vec<Entry> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let (region, city, authority) = REGIONS[i % REGIONS.len()];
            let name = format!(
                "{}{}{}{}",
                if i % 3 == 0 { city } else { "" },
                trade_name(i),
                TRADES[i % TRADES.len()],
                FORMS[(i / 3) % FORMS.len()]
            );
            let valid_until = if i % 10 == 9 {
                Date::new(2020 + (i % 5) as u16, 6, 30)
            } else if i % 11 == 0 {
                None
            } else {
                Date::new(
                    2027 + (i % 5) as u16,
                    1 + (i % 12) as u8,
                    1 + (i % 28) as u8,
                )
            };
            let scope = if i % 7 == 6 {
                "职业中介活动；人力资源供求信息的收集和发布"
            } else {
                "职业中介活动（开展网络招聘服务）；人力资源供求信息的收集和发布"
            };
            Entry::new(&name, &licence_no(i, &mut rng))
                .expect("non-empty")
                .with_credit_code(credit_code(&mut rng).as_str())
                .with_scope(scope)
                .with_authority(authority)
                .with_valid_until(valid_until)
                .with_region(region)
        })
        .collect()
}
