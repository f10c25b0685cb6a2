//! What a site displays about its operator: the record the crawler's operator reader
//! writes and the licence checks read (`xuncha.operator/1`).

use serde::{Deserialize, Serialize};

/// The `schema` value of an operator record.
pub const OPERATOR_SCHEMA: &str = "xuncha.operator/1";

/// What one site displays about its operator, from its homepage and about pages.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OperatorRecord {
    /// Always [`OPERATOR_SCHEMA`].
    pub schema: String,
    /// Site key.
    pub source: String,
    /// When the pages were read, RFC 3339.
    pub checked_at: String,
    /// Each page read, with its evidence.
    pub pages: Vec<OperatorPage>,
    /// The 营业执照 as displayed.
    pub business_licence: LicenceDisplay,
    /// The 人力资源服务许可证 as displayed.
    pub hr_service_licence: LicenceDisplay,
    /// ICP filing or licence number shown (`粤ICP备…号`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icp: Option<String>,
    /// Which of the disclosures an agency must show appear: 服务项目, 收费标准, 监督机关,
    /// 监督电话.
    pub disclosures: Vec<String>,
    /// Pages that could not be read, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// One operator page as captured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OperatorPage {
    /// URL read.
    pub url: String,
    /// HTTP status.
    pub status: u16,
    /// `sha256:<hex>` of the body in the evidence store.
    pub evidence: String,
}

/// How a licence is displayed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LicenceDisplay {
    /// The licence is mentioned, as text, a link or an image.
    pub shown: bool,
    /// The number as displayed: 统一社会信用代码 for the 营业执照, the permit number for
    /// the 人力资源服务许可证.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The text around the first mention, for a reviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Links or images that show the licence (a scan of the certificate is a common display).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}
