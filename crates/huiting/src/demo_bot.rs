//! The demo company's bot: multi-turn flows (order status, logistics tracking, refund policy,
//! refund progress, invoice, returns) with connectors to the demo order system
//! (`demo_oms`), whose loopback host the admin explicitly allows, and the intents that start
//! them (added to the demo's other intents before training).

use dialogue::{
    BotConfig, Flow, OnFailure, Slot, SlotKind, Text,
    connector::{ConnectorDef, FieldMap, Method},
};

use crate::demo_oms;

/// The intents that start the flows: (name, description, examples).
pub const FLOW_INTENTS: &[(&str, &str, &[&str])] = &[
    (
        "order.status",
        "查询某个订单的状态",
        &[
            "帮我查一下订单状态",
            "我的订单发货了吗",
            "查订单",
            "我买的东西发货了没有",
            "订单现在是什么状态",
            "帮我看看我的订单",
            "我的订单怎么样了",
            "查询订单",
            "订单处理到哪一步了",
            "我下的单到底发没发货",
            "check my order status",
            "what is the status of my order",
            "has my order shipped",
            "order status",
        ],
    ),
    (
        "logistics.track",
        "查询包裹物流",
        &[
            "我的快递到哪了",
            "快递怎么还没到",
            "查一下物流",
            "包裹到哪里了",
            "帮我查快递",
            "物流到哪了",
            "东西什么时候能送到",
            "查物流",
            "快递单号是多少",
            "我的包裹在哪",
            "where is my package",
            "track my package",
            "where is my parcel",
            "when will my delivery arrive",
        ],
    ),
    (
        "refund.policy",
        "退款退货政策",
        &[
            "退款政策是什么",
            "你们的退货规则",
            "七天无理由退货的规定",
            "退货运费谁出",
            "多少天内可以退货",
            "哪些商品不能退",
            "退款规则是怎样的",
            "退货有什么条件",
            "what is your refund policy",
            "return policy",
            "who pays for return shipping",
        ],
    ),
    (
        "invoice.status",
        "查询订单的发票",
        &[
            "我的发票开了吗",
            "帮我查一下订单的发票",
            "发票开好了没有",
            "订单发票查询",
            "我要这个订单的发票",
            "查发票",
            "is my invoice ready",
            "check the invoice for my order",
        ],
    ),
    (
        "return.apply",
        "为某个订单办理退货",
        &[
            "我要退货",
            "帮我办理退货",
            "这个不想要了 我要退",
            "给我退了吧",
            "申请退货",
            "我想把这个订单退掉",
            "我要退这个订单",
            "办理退货",
            "i want to return my order",
            "return this order",
            "start a return",
        ],
    ),
];

fn t(zh: &str, en: &str) -> Text {
    Text::new(zh, en)
}

fn order_slot() -> Slot {
    Slot {
        name: "order_no".into(),
        kind: SlotKind::OrderNo,
        prompt: t(
            "请提供您的订单号（以 DD 开头，例如 DD20261120000101），我帮您查询。",
            "Please send your order number (it starts with DD, e.g. DD20261120000101).",
        ),
        invalid: t("这似乎不是有效的订单号。", "That doesn't look like an order number. "),
        max_attempts: 2,
    }
}

fn connector(name: &str, addr: &str, path: &str, fields: &[(&str, &str)]) -> ConnectorDef {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h).trim_matches(['[', ']']);
    ConnectorDef {
        name: name.into(),
        method: Method::Get,
        url: format!("http://{addr}{}{path}", demo_oms::PREFIX.trim_end_matches('/')),
        headers: vec![("Authorization".into(), "Bearer {{secret}}".into())],
        body: None,
        secret: Some(demo_oms::SECRET.into()),
        timeout_ms: 2_000,
        fields: fields
            .iter()
            .map(|(var, pointer)| FieldMap { var: (*var).into(), pointer: (*pointer).into() })
            .collect(),
        // The order system runs on loopback: the admin allows that one host explicitly.
        allow_hosts: vec![host.to_owned()],
    }
}

/// The demo's bot configuration, its connectors calling the order system at `addr`.
pub fn config(addr: &str) -> BotConfig {
    let returns = {
        let mut c = connector(
            "oms_return",
            addr,
            "/returns",
            &[("rma", "/data/rma"), ("deadline", "/data/deadline"), ("address", "/data/address")],
        );
        c.method = Method::Post;
        c.body = Some(r#"{"order_no":"{{order_no}}","reason":"{{reason}}"}"#.into());
        c
    };
    BotConfig {
        flows: vec![
            Flow {
                name: "order_status".into(),
                intents: vec!["order.status".into()],
                slots: vec![order_slot()],
                connector: Some("oms_order".into()),
                answer: t(
                    "订单 {{order_no}}（{{product}}，¥{{amount}}）当前状态：{{status}}。{{last_event}}。",
                    "Order {{order_no}} ({{product}}): {{status_en}}.",
                ),
                on_failure: OnFailure::Apologise,
            },
            Flow {
                name: "logistics".into(),
                intents: vec!["logistics.track".into()],
                slots: vec![order_slot()],
                connector: Some("oms_logistics".into()),
                answer: t("物流信息：{{summary}}。", "Tracking: {{summary_en}}"),
                on_failure: OnFailure::Apologise,
            },
            Flow {
                name: "refund_policy".into(),
                intents: vec!["refund.policy".into()],
                slots: vec![],
                connector: None,
                answer: t(
                    "退款政策：签收后 7 天内支持无理由退货（商品完好、配件齐全，已安装的大家电除外）；15 天内有质量问题可换货，运费由我们承担；无理由退货的寄回运费由您承担。退款在仓库签收退货后 1–3 个工作日原路退回。",
                    "Refund policy: returns within 7 days of delivery for any reason (unused, complete; installed large appliances excepted); exchanges within 15 days for defects, shipping on us; for no-reason returns you pay the return shipping. Refunds go back to the original payment 1–3 working days after the warehouse receives the item.",
                ),
                on_failure: OnFailure::Apologise,
            },
            Flow {
                name: "invoice".into(),
                intents: vec!["invoice.status".into()],
                slots: vec![order_slot()],
                connector: Some("oms_invoice".into()),
                answer: t("发票信息：{{summary}}。", "Invoice: {{summary_en}}"),
                on_failure: OnFailure::Apologise,
            },
            Flow {
                name: "returns".into(),
                intents: vec!["return.apply".into()],
                slots: vec![
                    order_slot(),
                    Slot {
                        name: "reason".into(),
                        kind: SlotKind::OneOf(vec![
                            "质量问题".into(),
                            "不想要了".into(),
                            "发错货".into(),
                            "其他".into(),
                        ]),
                        prompt: t(
                            "请问退货原因是？回复序号：1. 质量问题 2. 不想要了 3. 发错货 4. 其他",
                            "Why are you returning it? Reply with a number: 1. defective 2. no longer wanted 3. wrong item 4. other",
                        ),
                        invalid: t(
                            "请回复 1–4 中的一个序号。",
                            "Please reply with a number from 1 to 4. ",
                        ),
                        max_attempts: 2,
                    },
                ],
                connector: Some("oms_return".into()),
                answer: t(
                    "已为订单 {{order_no}} 提交退货申请（原因：{{reason}}），退货单号 {{rma}}。请在 {{deadline}} 将商品寄回：{{address}}。仓库签收后 1–3 个工作日原路退款。",
                    "Your return for order {{order_no}} is registered as {{rma}}. Please send the item back within 7 days to: Huiting returns warehouse, 88 Zhangjiang Rd, Pudong, Shanghai.",
                ),
                // A return the system could not register needs a person.
                on_failure: OnFailure::Handoff,
            },
        ],
        connectors: vec![
            connector(
                "oms_order",
                addr,
                "/orders/{{order_no}}",
                &[
                    ("status", "/data/status"),
                    ("status_en", "/data/status_en"),
                    ("product", "/data/product"),
                    ("amount", "/data/amount"),
                    ("last_event", "/data/last_event"),
                ],
            ),
            connector(
                "oms_logistics",
                addr,
                "/orders/{{order_no}}/logistics",
                &[("summary", "/data/summary"), ("summary_en", "/data/summary_en")],
            ),
            connector(
                "oms_invoice",
                addr,
                "/orders/{{order_no}}/invoice",
                &[("summary", "/data/summary"), ("summary_en", "/data/summary_en")],
            ),
            returns,
        ],
        // The demo company has a VIP desk: VIP customers go straight to it.
        handoff: dialogue::HandoffRules { vip_direct: true, ..dialogue::HandoffRules::default() },
        ..BotConfig::default()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_config_is_valid_and_names_the_order_system() {
        let c = super::config("127.0.0.1:18089");
        c.validate().unwrap();
        assert_eq!(crate::demo_oms::address_in(&c).as_deref(), Some("127.0.0.1:18089"));
        assert!(c.connectors.iter().all(|c| c.allows("127.0.0.1")));
    }
}
