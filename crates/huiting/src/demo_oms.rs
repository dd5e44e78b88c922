//! The demo company's order system: a small HTTP service on a loopback port that the demo's
//! bot connectors call (order status, logistics, invoices, refunds, returns). `huiting demo`
//! starts it in-process, and so do `huiting bot shell|test` when the workspace's connectors
//! point at it and nobody else serves that port. Its data is deterministic: a few showcase
//! orders with fixed numbers (used by the conversation scripts in `bot-tests/`) and, for any
//! other well-formed number `DDyyyymmddNNNNNN` (those in the demo's history), an order derived
//! from a hash of the number. Requests need `Authorization: Bearer demo-oms-secret`.

use anyhow::Context;
use axum::{
    Json, Router,
    extract::Path,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

/// The path prefix of every route: a connector URL containing it belongs to the demo.
pub const PREFIX: &str = "/demo-oms/";
pub const SECRET: &str = "demo-oms-secret";
/// Where `huiting demo` serves it unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:18089";

/// One order, as the order system knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub no: String,
    pub product: &'static str,
    pub amount: &'static str,
    /// 待付款 / 待发货 / 已发货 / 已签收 / 已取消 / 退款中
    pub status: &'static str,
    pub status_en: &'static str,
    pub carrier: &'static str,
    pub tracking_no: String,
    pub last_event: &'static str,
    pub last_time: String,
    pub eta: String,
    pub invoice: &'static str,
    pub refund: &'static str,
}

const PRODUCTS: &[(&str, &str)] = &[
    ("双门冰箱 BCD-452", "3299.00"),
    ("滚筒洗衣机 10kg", "2799.00"),
    ("变频空调 1.5匹", "3199.00"),
    ("65英寸智能电视", "4599.00"),
    ("扫地机器人 X20", "2499.00"),
    ("电热水器 60L", "1299.00"),
];
const CARRIERS: &[&str] = &["顺丰速运", "京东物流", "中通快递"];

fn ymd(no: &str) -> Option<(u32, u32, u32)> {
    let digits = no.strip_prefix("DD")?;
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: u32 = digits[0..4].parse().ok()?;
    let m: u32 = digits[4..6].parse().ok()?;
    let d: u32 = digits[6..8].parse().ok()?;
    ((2020..=2030).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
        .then_some((y, m, d))
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The order with this number, or `None` (unknown or malformed: the API answers 404).
pub fn order(no: &str) -> Option<Order> {
    let no = no.trim().to_ascii_uppercase();
    let (y, m, d) = ymd(&no)?;
    // Numbers ending in 000000 do not exist: the scripts' "no such order".
    if no.ends_with("000000") {
        return None;
    }
    let h = fnv(&no);
    let showcase = match &no[no.len() - 6..] {
        "000101" => Some(2), // shipped
        "000202" => Some(3), // delivered
        "000303" => Some(1), // paid, waiting to ship
        "000404" => Some(4), // cancelled
        "000505" => Some(5), // refund in progress
        "000606" => Some(0), // awaiting payment
        _ => None,
    };
    let stage = showcase.unwrap_or(1 + (h % 3) as usize);
    let (status, status_en, last_event) = match stage {
        0 => ("待付款", "awaiting payment", "订单已提交，等待付款"),
        1 => ("待发货", "paid, waiting to ship", "仓库正在备货"),
        2 => ("已发货", "shipped", "快件已到达【上海浦东转运中心】，正在派送途中"),
        3 => ("已签收", "delivered", "快件已签收，签收人：本人"),
        4 => ("已取消", "cancelled", "订单已取消，款项已原路退回"),
        _ => ("退款中", "refund in progress", "退款申请已通过，等待银行处理"),
    };
    let (product, amount) = PRODUCTS[(h >> 8) as usize % PRODUCTS.len()];
    let carrier = CARRIERS[(h >> 16) as usize % CARRIERS.len()];
    let day = |plus: u32| {
        let dd = d + plus;
        if dd > 28 {
            format!("{y:04}-{:02}-{:02}", if m == 12 { 1 } else { m + 1 }, dd - 28)
        } else {
            format!("{y:04}-{m:02}-{dd:02}")
        }
    };
    let shipped = matches!(stage, 2 | 3);
    Some(Order {
        product,
        amount,
        status,
        status_en,
        carrier: if shipped { carrier } else { "" },
        tracking_no: if shipped {
            format!("SF{:012}", h % 1_000_000_000_000)
        } else {
            String::new()
        },
        last_event,
        last_time: format!("{} 14:{:02}", day(if stage == 3 { 3 } else { 2 }), h % 60),
        eta: if stage == 3 { "已送达".into() } else { day(3) },
        invoice: if matches!(stage, 0 | 4) { "未开具" } else { "已开具" },
        refund: match stage {
            5 => "退款处理中，预计 1–3 个工作日到账",
            4 => "已退款",
            _ => "无退款",
        },
        no,
    })
}

fn authorised(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {SECRET}"))
}

fn answer(h: &HeaderMap, no: &str, f: impl FnOnce(&Order) -> Value) -> Response {
    if !authorised(h) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "unauthorised"}))).into_response();
    }
    match order(no) {
        Some(o) => Json(json!({"data": f(&o)})).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "no such order"}))).into_response(),
    }
}

async fn order_status(h: HeaderMap, Path(no): Path<String>) -> Response {
    answer(&h, &no, |o| {
        json!({"order_no": o.no, "status": o.status, "status_en": o.status_en,
               "product": o.product, "amount": o.amount, "last_event": o.last_event})
    })
}

async fn logistics(h: HeaderMap, Path(no): Path<String>) -> Response {
    answer(&h, &no, |o| {
        if o.tracking_no.is_empty() {
            json!({"order_no": o.no, "shipped": false, "status": o.status,
                   "summary": format!("订单{}，尚未发出，暂无物流信息", o.status),
                   "summary_en": format!("The order is {}; nothing has shipped yet.", o.status_en)})
        } else {
            json!({"order_no": o.no, "shipped": true, "status": o.status,
                   "summary": format!("{} 运单号 {}，最新：{}（{}），预计送达：{}", o.carrier, o.tracking_no, o.last_event, o.last_time, o.eta),
                   "summary_en": format!("{} tracking number {}; latest update {}; expected: {}", o.carrier, o.tracking_no, o.last_time, o.eta)})
        }
    })
}

async fn invoice(h: HeaderMap, Path(no): Path<String>) -> Response {
    answer(&h, &no, |o| {
        let issued = o.invoice == "已开具";
        json!({"order_no": o.no, "issued": issued,
               "summary": if issued { format!("电子发票已开具，可在“我的订单→{}→发票”中下载 PDF，也可发送到您的邮箱", o.no) }
                          else { "该订单暂未开具发票（订单签收后自动开具电子普通发票）".to_owned() },
               "summary_en": if issued { format!("The e-invoice is issued; download it under My orders → {} → Invoice.", o.no) }
                             else { "No invoice yet: the e-invoice is issued automatically after delivery.".to_owned() }})
    })
}

async fn refund(h: HeaderMap, Path(no): Path<String>) -> Response {
    answer(&h, &no, |o| json!({"order_no": o.no, "refund": o.refund, "amount": o.amount}))
}

async fn create_return(h: HeaderMap, Json(body): Json<Value>) -> Response {
    let no = body.get("order_no").and_then(Value::as_str).unwrap_or_default().to_owned();
    let reason = body.get("reason").and_then(Value::as_str).unwrap_or_default().to_owned();
    answer(&h, &no, move |o| {
        let rma = format!("TH{}", &o.no[2..]);
        json!({"order_no": o.no, "rma": rma, "reason": reason, "deadline": "7 天内",
               "address": "上海市浦东新区张江路 88 号 慧听退货仓"})
    })
}

pub fn router() -> Router {
    Router::new()
        .route("/demo-oms/orders/{no}", get(order_status))
        .route("/demo-oms/orders/{no}/logistics", get(logistics))
        .route("/demo-oms/orders/{no}/invoice", get(invoice))
        .route("/demo-oms/orders/{no}/refund", get(refund))
        .route("/demo-oms/returns", post(create_return))
}

/// The address of the demo order system named by a workspace's connectors, if any.
pub fn address_in(cfg: &dialogue::BotConfig) -> Option<String> {
    cfg.connectors.iter().find_map(|c| {
        let rest = c.url.strip_prefix("http://")?;
        let (authority, path) = rest.split_once('/')?;
        path.starts_with(PREFIX.trim_start_matches('/')).then(|| authority.to_owned())
    })
}

/// Starts the order system a workspace's connectors name, unless something already listens
/// there (a running `huiting demo`). Returns whether this process serves it.
pub async fn ensure(cfg: &dialogue::BotConfig) -> anyhow::Result<bool> {
    let Some(addr) = address_in(cfg) else { return Ok(false) };
    match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => {
            tokio::spawn(async move {
                let _ = axum::serve(listener, router()).await;
            });
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Ok(false),
        Err(e) => Err(e).with_context(|| format!("starting the demo order system on {addr}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_are_deterministic_and_unknown_numbers_are_missing() {
        let o = order("DD20261120000101").unwrap();
        assert_eq!(o.status, "已发货");
        assert!(!o.tracking_no.is_empty());
        assert_eq!(order("dd20261120000101"), Some(o));
        assert_eq!(order("DD20261118000202").unwrap().status, "已签收");
        assert_eq!(order("DD20261125000303").unwrap().status, "待发货");
        assert!(order("DD20261120000000").is_none());
        assert!(order("DD2026112").is_none());
        assert!(order("XX20261120000101").is_none());
        assert!(order("DD20261120123456").is_some());
    }
}
