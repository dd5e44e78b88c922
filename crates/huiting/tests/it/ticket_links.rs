//! Ticket links (issue 5): related tickets seen from both ends, a duplicate merged into
//! another ticket — tags and notes moved, the duplicate closed with a link, both audited — and
//! a second problem split out of a ticket into a new one.

use serde_json::{Value, json};
use test_support::TestApp;

use crate::{items, on_backends, s};

on_backends!(tickets_link_and_merge, |t: TestApp| async move {
    let agent = t.as_role("agent@acme.test").await;
    let customer = s(&agent.post("/api/v1/customers", json!({"name": "周女士"})).await.body["id"]);
    let open = |subject: &str, tag: &str| {
        let body = json!({"subject": subject, "customer_id": customer, "tags": [tag], "description": "洗衣机不脱水"});
        let agent = agent.clone();
        async move {
            let r = agent.post("/api/v1/tickets", body).await;
            assert_eq!(r.status, 201, "{:?}", r.body);
            r.body
        }
    };
    let dup = open("洗衣机不脱水（重复）", "washer").await;
    let main = open("洗衣机不脱水", "repair").await;
    let other = open("安装预约", "install").await;
    let (dup_id, main_id, other_id) = (s(&dup["id"]), s(&main["id"]), s(&other["id"]));
    let note = agent
        .post(&format!("/api/v1/tickets/{dup_id}/notes"), json!({"body": "客户第二次来电"}))
        .await;
    assert_eq!(note.status, 201, "{:?}", note.body);

    // Related links are seen from both tickets; the number names a ticket too.
    let r = agent
        .post(
            &format!("/api/v1/tickets/{main_id}/links"),
            json!({"ticket_id": s(&other["number"])}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert_eq!(
        (s(&r.body[0]["kind"]), s(&r.body[0]["ticket_id"])),
        ("related".into(), other_id.clone())
    );
    let again = agent
        .post(&format!("/api/v1/tickets/{other_id}/links"), json!({"ticket_id": main_id}))
        .await;
    assert_eq!(
        again.body.as_array().unwrap().len(),
        1,
        "one link however it is asked: {:?}",
        again.body
    );
    assert_eq!(s(&again.body[0]["ticket_id"]), main_id);
    let selfish = agent
        .post(&format!("/api/v1/tickets/{main_id}/links"), json!({"ticket_id": main_id}))
        .await;
    assert_eq!(selfish.status, 400, "{:?}", selfish.body);
    let gone = agent.delete(&format!("/api/v1/tickets/{other_id}/links/{main_id}")).await;
    assert_eq!(gone.status, 204, "{:?}", gone.body);
    assert_eq!(
        agent.delete(&format!("/api/v1/tickets/{other_id}/links/{main_id}")).await.status,
        404
    );
    assert!(
        agent
            .get(&format!("/api/v1/tickets/{main_id}/links"))
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Merge the duplicate into the main ticket.
    let m = agent
        .post(&format!("/api/v1/tickets/{dup_id}/merge"), json!({"into": s(&main["number"])}))
        .await;
    assert_eq!(m.status, 200, "{:?}", m.body);
    assert_eq!(s(&m.body["merged"]["status"]), "closed");
    assert!(
        m.body["merged"]["custom_fields"].to_string().contains(&s(&main["number"])),
        "{:?}",
        m.body
    );
    assert_eq!(m.body["into"]["tags"], json!(["repair", "washer"]));
    let notes = items(&agent.get(&format!("/api/v1/tickets/{main_id}/messages")).await.body);
    let moved = notes.iter().find(|n| s(&n["body"]).contains("合并自")).expect("the merge note");
    assert_eq!(s(&moved["visibility"]), "internal");
    assert!(
        s(&moved["body"]).contains("客户第二次来电")
            && s(&moved["body"]).contains(&s(&dup["number"])),
        "{moved}"
    );
    let links = agent.get(&format!("/api/v1/tickets/{dup_id}/links")).await.body;
    assert_eq!(
        (s(&links[0]["kind"]), s(&links[0]["direction"])),
        ("merged_into".into(), "out".into())
    );
    let links = agent.get(&format!("/api/v1/tickets/{main_id}/links")).await.body;
    assert_eq!(
        (s(&links[0]["ticket_id"]), s(&links[0]["direction"])),
        (dup_id.clone(), "in".into())
    );
    for id in [&dup_id, &main_id] {
        let hist = agent.get(&format!("/api/v1/tickets/{id}/history")).await;
        assert!(
            hist.body.as_array().unwrap().iter().any(|e| e["action"] == "ticket.merge"),
            "{:?}",
            hist.body
        );
    }
    let twice =
        agent.post(&format!("/api/v1/tickets/{dup_id}/merge"), json!({"into": main_id})).await;
    assert_eq!(twice.status, 409, "{:?}", twice.body);
    let into_closed =
        agent.post(&format!("/api/v1/tickets/{other_id}/merge"), json!({"into": dup_id})).await;
    assert_eq!(into_closed.status, 409, "{:?}", into_closed.body);
    let itself =
        agent.post(&format!("/api/v1/tickets/{main_id}/merge"), json!({"into": main_id})).await;
    assert_eq!(itself.status, 400);

    // Other workspaces see none of it; auditors read but do not link.
    let outsider = t.login("other", "admin@other.test").await;
    assert_eq!(outsider.get(&format!("/api/v1/tickets/{main_id}/links")).await.status, 404);
    let auditor = t.as_role("audit@acme.test").await;
    assert_eq!(auditor.get(&format!("/api/v1/tickets/{main_id}/links")).await.status, 200);
    let no = auditor
        .post(&format!("/api/v1/tickets/{main_id}/links"), json!({"ticket_id": other_id}))
        .await;
    assert_eq!(no.status, 403);
    let _: Value = json!(null);
});

on_backends!(a_second_problem_splits_into_its_own_ticket, |t: TestApp| async move {
    t.bot_off().await;
    let agent = t.as_role("agent@acme.test").await;
    let (visitor, conv) = t.visitor("孙先生", "空调开了半小时还是不冷").await;
    let customer =
        s(&agent.get(&format!("/api/v1/conversations/{conv}")).await.body["customer_id"]);
    let tk = agent
        .post(
            "/api/v1/tickets",
            json!({"subject": "空调不制冷", "customer_id": customer, "conversation_id": conv, "tags": ["aircon"]}),
        )
        .await;
    assert_eq!(tk.status, 201, "{:?}", tk.body);
    let id = s(&tk.body["id"]);
    let reply = agent
        .post(&format!("/api/v1/tickets/{id}/replies"), json!({"body": "请问型号是多少？"}))
        .await;
    assert!((200..300).contains(&reply.status), "{:?}", reply.body);
    // The customer brings up a second problem in the same conversation.
    let second = visitor
        .post(
            &format!("/api/v1/public/conversations/{conv}/messages"),
            json!({"body": "另外上个月的发票抬头开错了，需要重开"}),
        )
        .await;
    assert!((200..300).contains(&second.status), "{:?}", second.body);
    let msgs = items(&agent.get(&format!("/api/v1/conversations/{conv}/messages")).await.body);
    let invoice = msgs
        .iter()
        .find(|m| s(&m["body"]).contains("发票抬头"))
        .map(|m| s(&m["id"]))
        .unwrap_or_else(|| panic!("the second problem's message: {msgs:?}"));

    let original_before = agent.get(&format!("/api/v1/tickets/{id}")).await.body;
    let r = agent
        .post(
            &format!("/api/v1/tickets/{}/split", s(&tk.body["number"])),
            json!({"subject": "发票抬头错误，需重开", "message_ids": [invoice], "urgency": "urgent", "tags": ["invoice"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let new = &r.body["created"];
    let new_id = s(&new["id"]);
    assert_ne!(new_id, id);
    assert_eq!(
        (s(&new["customer_id"]), s(&new["conversation_id"]), s(&new["urgency"])),
        (customer.clone(), conv.clone(), "urgent".into()),
        "same customer and conversation: {new}"
    );
    assert_eq!(new["tags"], json!(["invoice"]));
    assert!(new["custom_fields"].to_string().contains(&s(&tk.body["number"])), "{new}");
    assert_eq!(
        (&r.body["original"]["status"], &r.body["original"]["tags"]),
        (&original_before["status"], &original_before["tags"]),
        "the original is untouched"
    );
    // The new ticket is a ticket like any other: on its own SLA clocks, findable, with the note.
    let sla = agent.get(&format!("/api/v1/tickets/{new_id}/sla")).await;
    assert_eq!(sla.status, 200, "{:?}", sla.body);
    assert!(!sla.body.to_string().is_empty());
    let notes = items(&agent.get(&format!("/api/v1/tickets/{new_id}/messages")).await.body);
    let note = notes.iter().find(|n| s(&n["body"]).contains("拆分自")).expect("the split note");
    assert_eq!(s(&note["visibility"]), "internal");
    assert!(s(&note["body"]).contains("发票抬头开错了"), "{note}");
    assert!(!s(&note["body"]).contains("半小时"), "only the chosen messages are quoted: {note}");
    let links = agent.get(&format!("/api/v1/tickets/{new_id}/links")).await.body;
    assert_eq!(
        (s(&links[0]["kind"]), s(&links[0]["direction"]), s(&links[0]["ticket_id"])),
        ("split_from".into(), "out".into(), id.clone())
    );
    let links = agent.get(&format!("/api/v1/tickets/{id}/links")).await.body;
    assert_eq!(
        (s(&links[0]["direction"]), s(&links[0]["ticket_id"])),
        ("in".into(), new_id.clone())
    );
    for tid in [&id, &new_id] {
        let hist = agent.get(&format!("/api/v1/tickets/{tid}/history")).await.body;
        assert!(hist.as_array().unwrap().iter().any(|e| e["action"] == "ticket.split"), "{hist:?}");
    }

    // Bad requests: no message, a message of another conversation, a bad subject, an unknown
    // ticket, a closed ticket; none of them creates a ticket.
    let before = items(&agent.get("/api/v1/tickets?limit=200").await.body).len();
    let split = |body: Value| {
        let agent = agent.clone();
        let id = id.clone();
        async move { agent.post(&format!("/api/v1/tickets/{id}/split"), body).await }
    };
    let none = split(json!({"subject": "x", "message_ids": []})).await;
    assert_eq!(
        (none.status, s(&none.body["field"])),
        (400, "message_ids".into()),
        "{:?}",
        none.body
    );
    let other_conv = agent
        .post(
            "/api/v1/tickets",
            json!({"subject": "别的", "customer_id": customer, "description": "别的问题"}),
        )
        .await;
    let foreign = items(
        &agent
            .get(&format!(
                "/api/v1/conversations/{}/messages",
                s(&other_conv.body["conversation_id"])
            ))
            .await
            .body,
    )[0]["id"]
        .clone();
    let wrong = split(json!({"subject": "x", "message_ids": [foreign]})).await;
    assert_eq!(wrong.status, 400, "{:?}", wrong.body);
    assert!(s(&wrong.body["message"]).contains("message_ids"), "{:?}", wrong.body);
    let blank = split(json!({"subject": "  ", "message_ids": [invoice]})).await;
    assert_eq!(blank.status, 400, "{:?}", blank.body);
    let garbage = split(json!({"subject": "x", "message_ids": ["not-an-id"]})).await;
    assert_eq!(garbage.status, 400, "{:?}", garbage.body);
    let unknown = agent
        .post("/api/v1/tickets/HT-999999/split", json!({"subject": "x", "message_ids": [invoice]}))
        .await;
    assert_eq!(unknown.status, 404, "{:?}", unknown.body);
    let closed = s(&other_conv.body["id"]);
    for st in ["solved", "closed"] {
        let r =
            agent.post(&format!("/api/v1/tickets/{closed}/status"), json!({"status": st})).await;
        assert!((200..300).contains(&r.status), "{st}: {:?}", r.body);
    }
    let r = agent
        .post(
            &format!("/api/v1/tickets/{closed}/split"),
            json!({"subject": "x", "message_ids": [foreign]}),
        )
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert_eq!(items(&agent.get("/api/v1/tickets?limit=200").await.body).len(), before + 1);

    // Auditors read but do not split.
    let auditor = t.as_role("audit@acme.test").await;
    let no = auditor
        .post(
            &format!("/api/v1/tickets/{id}/split"),
            json!({"subject": "x", "message_ids": [invoice]}),
        )
        .await;
    assert_eq!(no.status, 403, "{:?}", no.body);
});
