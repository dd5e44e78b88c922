//! Routing end to end (TK-5): a ticket without an assignee is placed by skills, presence and
//! capacity; it waits in its team's queue (VIP ahead) with the position and estimated wait on
//! its tracking link; the red channel reaches senior staff; every route is checked on both
//! backends.

use serde_json::{Value, json};
use test_support::TestApp;

use crate::{on_backends, s};

fn token(ticket: &Value) -> String {
    s(&ticket["tracking_path"]).rsplit('/').next().unwrap_or_default().to_string()
}

on_backends!(routing_places_tickets_and_shows_the_queue, |t: TestApp| async move {
    let admin = t.as_role("admin@acme.test").await;
    let sup = t.as_role("super@acme.test").await;
    let a1 = t.as_role("agent@acme.test").await;
    let a2 = t.as_role("agent2@acme.test").await;
    let anon = t.anon();
    let (id1, id2) =
        (t.user("agent@acme.test").id.to_string(), t.user("agent2@acme.test").id.to_string());
    let team = admin
        .post(
            "/api/v1/teams",
            json!({"name": "产品质量组", "skills": ["PQ"], "members": [id1, id2]}),
        )
        .await;
    assert_eq!(team.status, 201, "{:?}", team.body);
    let team_id = s(&team.body["id"]);
    let ordinary = s(&a1.post("/api/v1/customers", json!({"name": "王女士"})).await.body["id"]);
    let vip =
        s(&a1.post("/api/v1/customers", json!({"name": "李总", "tier": "vip"})).await.body["id"]);
    let new_ticket = |customer: &str, code: &str, urgency: &str| json!({"subject": "主板故障", "customer_id": customer, "problem_code": code, "urgency": urgency});

    // Nobody is online: the ticket waits in the team whose skills match, first in line.
    let me = a1.get("/api/v1/me/presence").await;
    assert_eq!((me.status, s(&me.body["presence"])), (200, "offline".to_string()));
    let t1 = a1.post("/api/v1/tickets", new_ticket(&ordinary, "PQ-03", "normal")).await;
    assert_eq!(t1.status, 201, "{:?}", t1.body);
    assert_eq!(t1.body["assignee_id"], Value::Null);
    assert_eq!(s(&t1.body["team_id"]), team_id);
    let q = anon.get(&format!("/api/v1/public/track/{}/queue", token(&t1.body))).await;
    assert_eq!(q.status, 200, "{:?}", q.body);
    assert_eq!(q.body, json!({"waiting": true, "position": 1, "estimated_wait_seconds": null}));

    // A VIP's ticket goes ahead of it.
    let t2 = a1.post("/api/v1/tickets", new_ticket(&vip, "PQ-01", "normal")).await;
    assert_eq!(s(&t2.body["team_id"]), team_id);
    let pos = |tk: &Value| {
        let path = format!("/api/v1/public/track/{}/queue", token(tk));
        let anon = t.anon();
        async move { anon.get(&path).await.body["position"].clone() }
    };
    assert_eq!(pos(&t2.body).await, json!(1));
    assert_eq!(pos(&t1.body).await, json!(2));

    // Agent 1 comes online with room for one ticket: the next ticket is theirs.
    let cap = sup
        .put(&format!("/api/v1/users/{id1}/routing"), json!({"max_chats": 2, "max_tickets": 1}))
        .await;
    assert_eq!(cap.status, 200, "{:?}", cap.body);
    let on = a1.put("/api/v1/me/presence", json!({"presence": "online"})).await;
    assert_eq!(on.body["presence"], "online");
    assert_eq!(on.body["max_tickets"], 1);
    let bad = a1.put("/api/v1/me/presence", json!({"presence": "busy"})).await;
    assert_eq!((bad.status, s(&bad.body["field"])), (400, "presence".to_string()));
    t.advance(std::time::Duration::from_secs(60));
    let t3 = a1.post("/api/v1/tickets", new_ticket(&ordinary, "PQ-03", "normal")).await;
    assert_eq!(s(&t3.body["assignee_id"]), id1);
    assert_eq!(t3.body["status"], "open");
    let q3 = anon.get(&format!("/api/v1/public/track/{}/queue", token(&t3.body))).await;
    assert_eq!(q3.body["waiting"], false);

    // Agent 1 is full: the next one queues behind the VIP and the first ticket.
    let t4 = a1.post("/api/v1/tickets", new_ticket(&ordinary, "PQ-03", "normal")).await;
    assert_eq!(t4.body["assignee_id"], Value::Null);
    assert_eq!(pos(&t4.body).await, json!(3));

    // Solving a ticket after an hour gives the team a handling time: the estimate appears.
    t.advance(std::time::Duration::from_secs(3600));
    let solved = a1
        .post(&format!("/api/v1/tickets/{}/status", s(&t3.body["id"])), json!({"status": "solved"}))
        .await;
    assert_eq!(solved.status, 200, "{:?}", solved.body);
    let q1 = anon.get(&format!("/api/v1/public/track/{}/queue", token(&t1.body))).await;
    // One online slot (agent 1 takes one ticket), position 2: two rounds of the one-hour average.
    assert_eq!(q1.body["position"], 2);
    assert_eq!(q1.body["estimated_wait_seconds"], 2 * 3600);

    // Agent 2 online too, least loaded (agent 1's slot is free again but holds the same share):
    // least loaded picks the one with fewer open items in total, then the longest idle.
    a2.put("/api/v1/me/presence", json!({"presence": "online"})).await;
    let t5 = a1.post("/api/v1/tickets", new_ticket(&ordinary, "PQ-03", "normal")).await;
    assert_eq!(s(&t5.body["assignee_id"]), id2, "agent 2 has 0 of 20, agent 1 0 of 1");
    let t6 = a1.post("/api/v1/tickets", new_ticket(&ordinary, "PQ-03", "normal")).await;
    assert_eq!(s(&t6.body["assignee_id"]), id1, "1/20 for agent 2 is more than 0/1");

    // Red channel: a critical ticket with no matching team goes straight to senior staff.
    let senior = sup
        .put(
            &format!("/api/v1/users/{id2}/routing"),
            json!({"max_chats": 5, "max_tickets": 20, "senior": true}),
        )
        .await;
    assert_eq!(senior.body["senior"], true);
    let red = a1.post("/api/v1/tickets", new_ticket(&ordinary, "SP-12", "critical")).await;
    assert_eq!(s(&red.body["assignee_id"]), id2);
    // Not critical and no team fits: left for a person to place.
    let stray = a1.post("/api/v1/tickets", new_ticket(&ordinary, "SP-12", "normal")).await;
    assert_eq!(
        (stray.body["assignee_id"].clone(), stray.body["team_id"].clone()),
        (Value::Null, Value::Null)
    );

    // Team strategy and overflow are validated and audited.
    let rr = admin
        .put(&format!("/api/v1/teams/{team_id}/routing"), json!({"strategy": "round_robin"}))
        .await;
    assert_eq!(rr.status, 200, "{:?}", rr.body);
    let own = admin
        .put(
            &format!("/api/v1/teams/{team_id}/routing"),
            json!({"strategy": "least_loaded", "overflow_team_id": team_id, "overflow_after_seconds": 60}),
        )
        .await;
    assert_eq!((own.status, s(&own.body["field"])), (400, "overflow_team_id".to_string()));
    let capacity = sup
        .put(&format!("/api/v1/users/{id1}/routing"), json!({"max_chats": 501, "max_tickets": 1}))
        .await;
    assert_eq!(capacity.status, 400);
    let hist = a1.get(&format!("/api/v1/tickets/{}/history", s(&t3.body["id"]))).await;
    assert!(
        hist.body.as_array().unwrap().iter().any(|e| e["action"] == "ticket.route"),
        "{:?}",
        hist.body
    );
});

on_backends!(surges_repeats_and_root_causes_open_their_tickets, |t: TestApp| async move {
    let agent = t.as_role("agent@acme.test").await;
    let customer = s(&agent.post("/api/v1/customers", json!({"name": "赵先生"})).await.body["id"]);
    let other = s(&agent.post("/api/v1/customers", json!({"name": "钱女士"})).await.body["id"]);
    let open = |who: &str, code: &str| {
        let body = json!({"subject": "开不了机", "customer_id": who, "problem_code": code});
        let agent = agent.clone();
        async move {
            let r = agent.post("/api/v1/tickets", body).await;
            assert_eq!(r.status, 201, "{:?}", r.body);
            r.body
        }
    };
    let tagged = |tag: &'static str| {
        let agent = agent.clone();
        async move { crate::items(&agent.get(&format!("/api/v1/tickets?tag={tag}")).await.body) }
    };
    // The first complaint is not a repeat; the same customer's second one with the code is.
    let first = open(&customer, "PQ-03").await;
    assert_eq!(first["tags"], json!([]));
    t.advance(std::time::Duration::from_secs(60));
    assert_eq!(open(&customer, "PQ-03").await["tags"], json!(["repeat"]));
    assert_eq!(open(&other, "PQ-01").await["tags"], json!([]), "another code is no repeat");
    // More than five of one code in 30 days asks for a root-cause report, once.
    let mut count = 2;
    let mut more = |n: usize| {
        count += n;
        let (t, open, other) = (&t, &open, other.clone());
        async move {
            for _ in 0..n {
                t.advance(std::time::Duration::from_secs(60));
                open(&other, "PQ-03").await;
            }
        }
    };
    more(3).await;
    assert!(tagged("root_cause").await.is_empty(), "five is not more than five");
    more(1).await;
    let rc = tagged("root_cause").await;
    assert_eq!(rc.len(), 1, "{rc:?}");
    assert!(s(&rc[0]["subject"]).contains("根因"));
    // Ten of one code within the hour after a silent day: an L1 crisis ticket, once.
    more(3).await;
    assert!(tagged("crisis").await.is_empty(), "nine in the hour is below the floor");
    more(1).await;
    let crisis = tagged("crisis").await;
    assert_eq!(crisis.len(), 1, "{crisis:?}");
    assert_eq!(
        (crisis[0]["severity"].clone(), crisis[0]["urgency"].clone()),
        (json!("L1"), json!("critical"))
    );
    assert!(s(&crisis[0]["subject"]).contains("PQ-03"));
    more(2).await;
    assert_eq!(count, 12);
    // The customer whose complaint tipped the count never sees the internal tickets.
    let mine = t
        .app
        .visitor_tickets(&app::auth::Visitor::verified_elsewhere(
            t.ws.id,
            domain::CustomerId::parse(&other).unwrap(),
        ))
        .await
        .unwrap();
    assert!(
        !mine.is_empty()
            && mine.iter().all(|tk| tk.tags.iter().all(|x| x != "crisis" && x != "root_cause"))
    );
    assert_eq!((tagged("crisis").await.len(), tagged("root_cause").await.len()), (1, 1));
});
