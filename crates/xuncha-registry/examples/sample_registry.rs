//! Writes the invented sample list `config/registry/sample.csv` to stdout:
//!
//! ```text
//! cargo run -p xuncha-registry --example sample_registry > config/registry/sample.csv
//! ```
//!
//! Every name is made up (示例/样例), every credit code has the division `000000` and a
//! correct check character, numeric licence numbers start with `99`.

use xuncha_registry::synthetic::{credit_code, licence_no, Rng, REGIONS};

fn main() {
    let names = [
        "示例人力资源有限公司",
        "样例人才服务有限责任公司",
        "示例职业介绍（厦门）有限公司",
        "西安示例猎头有限公司",
        "样例人力资源服务股份有限公司",
        "示例启航人力资源有限公司",
        "样例聚才人力资源有限公司",
        "示例智联职业介绍有限公司",
        "成都示例优才人力资源有限公司",
        "样例英才猎头有限公司",
        "示例汇贤人才服务有限公司",
        "样例安邦人力资源有限公司",
        "示例众诚劳务派遣有限公司",
        "样例鹏程人力资源有限公司",
        "示例博雅人才服务（广州）有限公司",
        "济南示例德信人力资源有限公司",
        "样例宇泽职业介绍有限公司",
        "示例嘉禾人力资源有限公司",
        "样例同心人才服务有限公司",
        "郑州示例华彩人力资源有限公司",
        "示例明远猎头有限公司",
        "样例泰和人力资源有限公司",
        "示例康乐人力资源服务有限公司",
        "样例瑞丰人才服务有限公司",
        "示例锦程人力资源有限公司",
        "样例晨光职业介绍有限公司",
        "示例信达人力资源有限公司",
        "样例恒通人力资源有限公司",
        "示例广源人才服务有限公司",
        "样例海纳人力资源有限公司",
        "示例益众人力资源有限公司",
        "样例凯旋猎头有限公司",
    ];
    let mut rng = Rng::new(2026);
    println!("name,credit_code,licence_no,scope,authority,valid_until,region");
    for (i, name) in names.iter().enumerate() {
        // A name that carries a city is registered there.
        let (region, _, authority) = REGIONS
            .iter()
            .copied()
            .find(|(_, city, _)| name.contains(city))
            .unwrap_or(REGIONS[i % REGIONS.len()]);
        let scope = if i % 6 == 4 {
            // Licensed before the 44号 reissue: no online recruitment.
            "职业中介活动；人力资源供求信息的收集和发布"
        } else if i % 6 == 5 {
            "职业中介活动（开展网络招聘服务）；高级人才寻访服务"
        } else {
            "职业中介活动（开展网络招聘服务）；人力资源供求信息的收集和发布；就业和创业指导"
        };
        let valid_until = match i % 8 {
            3 => format!("{}-12-31", 2023 + i % 3),
            6 => "长期".to_string(),
            _ => format!("{}-{:02}-{:02}", 2027 + i % 4, 1 + i % 12, 1 + i % 28),
        };
        println!(
            "{},{},{},{},{},{},{}",
            quote(name),
            credit_code(&mut rng),
            quote(&licence_no(i, &mut rng)),
            quote(scope),
            authority,
            valid_until,
            region
        );
    }
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '；']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
