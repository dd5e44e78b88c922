//! Ticket links (issue 5): related tickets seen from both ends, and a duplicate merged into
//! another ticket — tags and notes moved, the duplicate closed with a link, both audited.

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
