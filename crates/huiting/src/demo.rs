//! `huiting demo`: seeds 慧听演示电器商城, a fictional consumer-electronics retailer, with staff,
//! teams, customers and a month of conversations and tickets. Everything goes through the `app`
//! use cases with a stepped clock, so each record is audited and evented at its historical time.

use std::collections::HashSet;

use anyhow::Context;
use app::{
    App, ManualClock,
    admin::{NewTeam, NewWorkspace},
    auth::{Agent, BotEditor, Capability, Manager, Noter, Principal, Staff, Visitor},
    bot::nlu::NewIntent,
    db::Page,
    intake::{ConversationPatch, Hello, NewConversation, NewCustomer, NewMessage},
    tickets::{NewTicket, TicketPatch},
};
use domain::{
    Actor, Channel, ConversationId, ConversationStatus, CustomerId, Department, Email, Handler,
    Identity, Phone, ProblemCode, Role, Severity, Status, TeamId, TicketId, Tier, Timestamp,
    Urgency, User, Visibility, Workspace, workspace::TeamKind,
};

pub struct DemoLogin {
    pub role: &'static str,
    pub email: String,
    pub password: String,
}

pub struct DemoSummary {
    pub workspace_slug: String,
    pub public_key: String,
    pub logins: Vec<DemoLogin>,
    pub customers: usize,
    pub tickets: usize,
    pub conversations: usize,
}

const SLUG: &str = "demo";
const PASSWORD: &str = "huiting-demo-2026";

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
/// The demo company works in China Standard Time.
const TZ: i64 = 8 * HOUR;

/// Seeds the demo company if the workspace `demo` does not exist yet; otherwise returns the
/// summary of the existing one (reads counts from the db, logins are the fixed demo ones).
/// `end` is "now": the history spans the 30 days before it.
/// What to seed besides the company, its staff and its bot.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// The month of customers, conversations and tickets (off: only the company and its bot,
    /// in a few seconds, for trying the bot and for the conversation scripts).
    pub history: bool,
    /// Where the demo order system listens; the bot's connectors are seeded with it.
    pub orders_listen: String,
}

pub async fn seed(
    app: &App,
    clock: &ManualClock,
    end: Timestamp,
    options: &SeedOptions,
    progress: &dyn Fn(&str, u64, u64),
) -> anyhow::Result<DemoSummary> {
    match app.workspace_by_slug(SLUG).await {
        Ok(ws) => return summary(app, &ws).await,
        Err(app::Error::NotFound(_)) => {}
        Err(e) => return Err(e).context("looking up the demo workspace"),
    }
    let mut rng = Rng(0x4854_2026_0d3e_5eed);
    let start = end.millis() - 30 * DAY;
    let mut org = setup(app, clock, start - 4 * HOUR, progress).await?;
    seed_survey_settings(app, &org).await?;
    if options.history {
        let people = people(&mut rng, end.millis());
        import_customers(app, clock, &mut org, &people, start - 2 * HOUR, progress).await?;
        let cases = plan(&mut rng, &people, start, end.millis());
        replay(app, clock, &org, &cases, end.millis(), progress).await?;
    }
    clock.set(end);
    seed_intents(app, &org, progress).await?;
    seed_knowledge(app, &org, progress).await?;
    let admin =
        app::auth::Admin::from_principal(org.principals[0].clone()).context("the demo admin")?;
    app.set_bot_settings(&admin, crate::demo_bot::config(&options.orders_listen))
        .await
        .context("configuring the demo bot's flows and connectors")?;
    seed_bot_chats(app, &org, progress).await?;
    seed_insights(app, &org, progress).await?;
    summary(app, &org.ws).await
}

/// Today's widget visitors who ask the configured bot (BOT-1, BOT-2): most questions are answered
/// from the knowledge base, some ask for a person and are handed off, so the bot's containment
/// and hand-off rate on the dashboards and `/bot/metrics` have figures on first start.
async fn seed_bot_chats(
    app: &App,
    org: &Org,
    progress: &dyn Fn(&str, u64, u64),
) -> anyhow::Result<()> {
    const ASKS: &[&str] = &[
        "怎么查看我的订单",
        "下单后多久发货",
        "怎么查物流信息",
        "运费怎么算",
        "怎么申请退货",
        "七天无理由退货怎么算",
        "退款多久到账",
        "怎么开发票",
        "我要转人工",
        "可以上门取件吗",
        "大家电送货上楼吗",
        "找人工客服，我要投诉",
    ];
    let n = 36;
    for i in 0..n {
        let ask = ASKS[i % ASKS.len()];
        let hello = Hello { name: Some(format!("访客{}", 101 + i)), ..Hello::default() };
        let chat = app
            .open_chat(&org.ws.public_key, None, hello, None)
            .await
            .context("a demo visitor opening the chat")?;
        let conv = chat.conversation.id;
        app.bot_start(&chat.visitor, conv).await.context("the bot's welcome")?;
        let (msg, _) = app
            .post_visitor_message(&chat.visitor, conv, message(ask.to_string()))
            .await
            .context("a demo visitor asking the bot")?;
        app.bot_reply(chat.visitor.workspace(), conv, &msg.body)
            .await
            .context("the bot's answer")?;
        progress("bot chats", i as u64 + 1, n as u64);
    }
    Ok(())
}

/// The survey a solved ticket gets (FB-1): CSAT, NPS and CES, so every satisfaction figure on
/// the dashboards has answers, and one optional custom question.
async fn seed_survey_settings(app: &App, org: &Org) -> anyhow::Result<()> {
    use domain::feedback::{SurveyKind, SurveyQuestion, SurveySettings};
    let head =
        Manager::from_principal(org.principals[HEAD].clone()).context("the cs_head as manager")?;
    let settings = SurveySettings {
        kinds: vec![SurveyKind::Csat, SurveyKind::Nps, SurveyKind::Ces],
        questions: vec![SurveyQuestion {
            id: "valued".into(),
            text: "您最看重我们服务的哪一点？/ What matters most to you?".into(),
            kind: "choice".into(),
            options: ["响应速度 Speed", "专业程度 Expertise", "服务态度 Courtesy"]
                .map(String::from)
                .to_vec(),
        }],
        ..SurveySettings::default()
    };
    app.put_survey_settings(&head, settings).await.context("saving the survey settings")?;
    Ok(())
}

/// Quality rules, alert thresholds and report schedules (AN-2, AN-5…AN-7), configured by the
/// cs_head: the 30 days of agent replies are inspected at once (the replies greet with 您好 and
/// close with 还有什么可以帮您 / 感谢, some are slow or skip the greeting), the detectors run as
/// soon as the worker has classified the history's messages, and last week's report is stored.
async fn seed_insights(
    app: &App,
    org: &Org,
    progress: &dyn Fn(&str, u64, u64),
) -> anyhow::Result<()> {
    let head =
        Manager::from_principal(org.principals[HEAD].clone()).context("the cs_head as manager")?;
    let rules = app::quality::Rules {
        forbidden: ["不知道", "不归我管", "你自己看", "没办法", "随便"].map(String::from).to_vec(),
        ..app::quality::Rules::default()
    };
    app.put_quality_rules(&head, rules).await.context("saving the quality rules")?;
    let n =
        app.inspect_quality_now(&head, 31).await.context("inspecting the demo conversations")?;
    progress("quality inspection", n as u64, n as u64);
    let owner = Some(org.users[SUPERVISORS[0]].id);
    let settings = app::alerts::AlertSettings { config: app::alerts::Config::default(), owner };
    app.put_alert_settings(&head, settings).await.context("saving the alert settings")?;
    for (name, period, format) in
        [("每周质量周报", "weekly", "csv"), ("月度经营报表", "monthly", "xlsx")]
    {
        let s = app
            .put_report_schedule(
                &head,
                None,
                app::reports::ScheduleInput {
                    name: name.into(),
                    period: period.into(),
                    format: format.into(),
                    recipients: vec!["head@demo.huiting.cn".into()],
                    active: true,
                },
            )
            .await
            .with_context(|| format!("creating the report schedule {name}"))?;
        if period == "weekly" {
            app.run_report_now(&head, s.id).await.context("rendering last week's report")?;
        }
    }
    // The hourly detectors once now, so a seeded database already shows this week's alerts.
    let alerts = app.evaluate_alerts_now(&head).await.context("evaluating the alerts")?;
    progress("alerts", alerts.len() as u64, alerts.len() as u64);
    Ok(())
}

fn logins() -> Vec<DemoLogin> {
    [
        ("admin", "admin@demo.huiting.cn"),
        ("cs_head", "head@demo.huiting.cn"),
        ("supervisor", "supervisor1@demo.huiting.cn"),
        ("agent", "agent1@demo.huiting.cn"),
        ("dept_member", "tech@demo.huiting.cn"),
        ("dept_member", "legal@demo.huiting.cn"),
        ("auditor", "audit@demo.huiting.cn"),
    ]
    .into_iter()
    .map(|(role, email)| DemoLogin {
        role,
        email: email.to_string(),
        password: PASSWORD.to_string(),
    })
    .collect()
}

async fn summary(app: &App, ws: &Workspace) -> anyhow::Result<DemoSummary> {
    let p = Principal {
        workspace: ws.id,
        actor: Actor::System,
        role: Role::Auditor,
        user: None,
        department: None,
        teams: Vec::new(),
        csrf_token: None,
    };
    let staff = Staff::from_principal(p)?;
    let full = 500;
    let mut customers = 0;
    let mut page = Page { limit: full, before: None };
    loop {
        let v = app
            .list_customers(&staff, &Default::default(), &page)
            .await
            .context("counting customers")?;
        customers += v.len();
        match v.last() {
            Some(l) if v.len() as i64 == full => {
                page.before = Some((l.created_at.millis(), l.id.to_string()))
            }
            _ => break,
        }
    }
    let mut conversations = 0;
    let mut page = Page { limit: full, before: None };
    loop {
        let v = app
            .list_conversations(&staff, &Default::default(), &page)
            .await
            .context("counting conversations")?;
        conversations += v.len();
        match v.last() {
            Some(l) if v.len() as i64 == full => {
                page.before = Some((l.last_message_at.millis(), l.id.to_string()))
            }
            _ => break,
        }
    }
    let mut tickets = 0;
    let mut page = Page { limit: full, before: None };
    loop {
        let v = app
            .list_tickets(&staff, Default::default(), &page)
            .await
            .context("counting tickets")?;
        tickets += v.len();
        match v.last() {
            Some(l) if v.len() as i64 == full => {
                page.before = Some((l.created_at.millis(), l.id.to_string()))
            }
            _ => break,
        }
    }
    Ok(DemoSummary {
        workspace_slug: ws.slug.clone(),
        public_key: ws.public_key.clone(),
        logins: logins(),
        customers,
        tickets,
        conversations,
    })
}

// ---------------------------------------------------------------------------------------------
// Staff and teams

const STAFF: &[(&str, &str, Role, Option<Department>)] = &[
    ("admin@demo.huiting.cn", "陈志远", Role::Admin, None),
    ("head@demo.huiting.cn", "周静", Role::CsHead, None),
    ("supervisor1@demo.huiting.cn", "孙丽", Role::Supervisor, None),
    ("supervisor2@demo.huiting.cn", "马强", Role::Supervisor, None),
    ("agent1@demo.huiting.cn", "李娜", Role::Agent, None),
    ("agent2@demo.huiting.cn", "王磊", Role::Agent, None),
    ("agent3@demo.huiting.cn", "张婷", Role::Agent, None),
    ("agent4@demo.huiting.cn", "刘洋", Role::Agent, None),
    ("agent5@demo.huiting.cn", "陈晨", Role::Agent, None),
    ("agent6@demo.huiting.cn", "杨帆", Role::Agent, None),
    ("agent7@demo.huiting.cn", "黄敏", Role::Agent, None),
    ("agent8@demo.huiting.cn", "吴昊", Role::Agent, None),
    ("tech@demo.huiting.cn", "郑浩", Role::DeptMember, Some(Department::Tech)),
    ("finance@demo.huiting.cn", "何芳", Role::DeptMember, Some(Department::Finance)),
    ("logistics@demo.huiting.cn", "韩冬", Role::DeptMember, Some(Department::Logistics)),
    ("legal@demo.huiting.cn", "徐文静", Role::DeptMember, Some(Department::Legal)),
    ("quality@demo.huiting.cn", "冯涛", Role::DeptMember, Some(Department::Quality)),
    ("audit@demo.huiting.cn", "蒋琳", Role::Auditor, None),
];

const HEAD: usize = 1;
const SUPERVISORS: [usize; 2] = [2, 3];
const PRESALE_AGENTS: [usize; 3] = [4, 5, 6];
const AFTERSALES_AGENTS: [usize; 5] = [6, 7, 8, 9, 10];
const VIP_AGENTS: [usize; 2] = [11, 2];
const ENGLISH_AGENTS: [usize; 2] = [9, 5];

fn dept_user(d: Department) -> usize {
    match d {
        Department::Tech => 12,
        Department::Finance => 13,
        Department::Logistics => 14,
        Department::Legal => 15,
        Department::Quality => 16,
    }
}

const PRESALE: usize = 0;
const AFTERSALES: usize = 1;
const VIP: usize = 2;
const ENGLISH: usize = 3;

fn dept_team(d: Department) -> usize {
    match d {
        Department::Tech => 4,
        Department::Finance => 5,
        Department::Logistics => 6,
        Department::Legal => 7,
        Department::Quality => 8,
    }
}

/// Name, department (for department teams), skills, members (indices into `STAFF`).
type TeamRow = (&'static str, Option<Department>, &'static [&'static str], &'static [usize]);

const TEAMS: &[TeamRow] = &[
    ("售前咨询", None, &["lang:zh", "channel:web_chat", "channel:app", "presale"], &[4, 5, 6, 2]),
    ("售后服务", None, &["lang:zh", "PQ", "SP", "TD"], &[6, 7, 8, 9, 10, 3]),
    ("VIP专席", None, &["vip", "lang:zh", "PQ", "SP", "TD", "RL"], &[11, 2]),
    ("English Desk", None, &["lang:en", "channel:email"], &[9, 5]),
    ("技术支持", Some(Department::Tech), &["PQ-02", "PQ-03", "PQ-04", "SP-12"], &[12]),
    ("财务", Some(Department::Finance), &["TD"], &[13]),
    ("物流", Some(Department::Logistics), &["SP-05"], &[14]),
    ("法务", Some(Department::Legal), &["RL"], &[15]),
    ("质量", Some(Department::Quality), &["PQ"], &[16]),
];

/// The seeded organisation, as the replay needs it.
struct Org {
    ws: Workspace,
    users: Vec<User>,
    principals: Vec<Principal>,
    teams: Vec<TeamId>,
    customers: Vec<CustomerId>,
}

impl Org {
    fn agent(&self, i: usize) -> anyhow::Result<Agent> {
        Agent::from_principal(self.principals[i].clone())
            .with_context(|| format!("{} as agent", STAFF[i].1))
    }
    fn noter(&self, i: usize) -> anyhow::Result<Noter> {
        Noter::from_principal(self.principals[i].clone())
            .with_context(|| format!("{} as noter", STAFF[i].1))
    }
    fn staff(&self, i: usize) -> anyhow::Result<Staff> {
        Staff::from_principal(self.principals[i].clone())
            .with_context(|| format!("{} as staff", STAFF[i].1))
    }
}

/// The intents a retailer's bot starts with, each with the ways customers put it (colloquial
/// Chinese first, some English). Training is queued: the server's worker builds the model in
/// the background seconds after the demo starts.
pub(crate) const INTENTS: &[(&str, &str, &[&str])] = &[
    (
        "order.track",
        "订单和物流在哪里查（操作方法）",
        &[
            "怎么查看我的订单",
            "在哪里看物流信息",
            "订单列表在哪",
            "物流信息一直没更新",
            "下单后多久发货",
            "显示签收了但我没收到",
            "how do i track my order",
            "where can i see my orders",
        ],
    ),
    (
        "order.cancel",
        "取消订单",
        &[
            "我要取消订单",
            "订单不想要了怎么取消",
            "刚下的单能取消吗",
            "拍错了帮我撤销订单",
            "取消一下这个订单",
            "还没发货可以取消吗",
            "不要了 取消吧",
            "cancel my order",
            "how do i cancel an order",
        ],
    ),
    (
        "order.address",
        "修改收货地址或电话",
        &[
            "我要改收货地址",
            "地址填错了",
            "能不能改一下收件人电话",
            "收货地址写错了怎么办",
            "换个地址送",
            "帮我修改配送地址",
            "change my delivery address",
        ],
    ),
    (
        "refund.apply",
        "申请退款退货",
        &[
            "我要退款",
            "怎么申请退货",
            "东西不想要了能退吗",
            "七天无理由退货怎么操作",
            "退货可以上门取件吗",
            "退货寄到哪个地址",
            "退货流程是什么",
            "可以退钱吗",
            "how do i return this",
        ],
    ),
    (
        "refund.progress",
        "退款进度",
        &[
            "退款什么时候到账",
            "钱怎么还没退回来",
            "退款进度查询",
            "退款申请了好几天了",
            "退款到哪了",
            "退的钱到哪个账户",
            "when will i get my refund",
        ],
    ),
    (
        "invoice",
        "发票",
        &[
            "怎么开发票",
            "我需要增值税专用发票",
            "发票抬头写错了",
            "电子发票在哪下载",
            "能补开发票吗",
            "发票还没收到",
            "can i get an invoice",
        ],
    ),
    (
        "repair.warranty",
        "售后维修和保修",
        &[
            "冰箱不制冷了",
            "洗衣机坏了怎么报修",
            "空调漏水",
            "电视开不了机",
            "还在保修期吗",
            "预约上门维修",
            "保修多长时间",
            "my washing machine is broken",
            "how long is the warranty",
            "is it still under warranty",
            "book a repair",
        ],
    ),
    (
        "product.install",
        "安装和使用",
        &[
            "空调什么时候上门安装",
            "热水器安装收费吗",
            "怎么预约安装",
            "说明书在哪里",
            "这个怎么用",
            "安装师傅什么时候来",
            "how do i install it",
        ],
    ),
    (
        "account.login",
        "账号和密码",
        &[
            "登录不上",
            "忘记密码了",
            "验证码收不到",
            "账号被锁了",
            "怎么改绑手机号",
            "reset my password",
            "i can't log in",
        ],
    ),
    (
        "membership",
        "会员和积分",
        &[
            "会员有什么权益",
            "积分怎么用",
            "我的积分过期了吗",
            "怎么升级会员",
            "plus会员怎么开通",
            "how do points work",
        ],
    ),
    (
        "shipping.info",
        "运费、快递公司和配送范围",
        &[
            "运费怎么算",
            "需要付运费吗",
            "发什么快递",
            "能指定快递公司吗",
            "偏远地区能送吗",
            "可以合并发货吗",
            "几个订单一起发货",
            "是哪家快递公司送",
            "能送到国外吗",
            "可以自提吗",
            "大家电送货上楼吗",
            "配送范围有哪些",
            "is shipping free",
            "which courier do you use",
            "do you deliver abroad",
        ],
    ),
    (
        "payment",
        "付款方式和支付问题",
        &[
            "支持哪些付款方式",
            "可以分期吗",
            "付款失败怎么办",
            "能用信用卡吗",
            "能货到付款吗",
            "对公转账可以吗",
            "支付不成功",
            "扣款了订单还是待付款",
            "what payment methods do you take",
            "can i pay in instalments",
        ],
    ),
    (
        "promotion",
        "优惠券、活动和价保",
        &[
            "优惠券怎么用",
            "优惠券用不了",
            "满减能和券一起用吗",
            "活动什么时候结束",
            "买完就降价了",
            "能申请价保吗",
            "以旧换新有补贴吗",
            "有什么优惠活动",
            "is there a discount",
            "price dropped after i bought it",
        ],
    ),
    (
        "product.genuine",
        "正品和授权",
        &[
            "商品是正品吗",
            "有没有假货",
            "是官方授权的吗",
            "怎么验证防伪码",
            "是原装的吗",
            "is it genuine",
        ],
    ),
    (
        "complaint",
        "投诉",
        &[
            "我要投诉",
            "你们服务太差了",
            "快递员态度恶劣",
            "客服一直不回复",
            "我要投诉你们的售后",
            "这是第三次出问题了",
            "i want to make a complaint",
        ],
    ),
    (
        "human.agent",
        "转人工客服",
        &[
            "转人工",
            "人工客服",
            "找客服",
            "我要跟真人说话",
            "有没有人工",
            "别用机器人了",
            "talk to a human",
            "agent please",
        ],
    ),
];

async fn seed_intents(
    app: &App,
    org: &Org,
    progress: &dyn Fn(&str, u64, u64),
) -> anyhow::Result<()> {
    let editor = BotEditor::from_principal(org.principals[0].clone())
        .context("the demo admin as bot editor")?;
    let all: Vec<_> = INTENTS.iter().chain(crate::demo_bot::FLOW_INTENTS).collect();
    for (i, (name, description, examples)) in all.iter().enumerate() {
        app.create_intent(
            &editor,
            NewIntent {
                name: (*name).to_owned(),
                description: (*description).to_owned(),
                examples: examples.iter().map(|e| (*e).to_owned()).collect(),
            },
        )
        .await
        .with_context(|| format!("creating the demo intent {name}"))?;
        progress("intents", i as u64 + 1, all.len() as u64);
    }
    app.request_training(&editor, domain::ModelKind::Intent)
        .await
        .context("queueing the demo's intent model")?;
    Ok(())
}

/// The demo's knowledge base: the FAQ (`data/demo_faq.csv`, imported through the same path as
/// a company's spreadsheet) and the reply-template library (`data/demo_reply_templates.tsv`).
async fn seed_knowledge(
    app: &App,
    org: &Org,
    progress: &dyn Fn(&str, u64, u64),
) -> anyhow::Result<()> {
    let editor = BotEditor::from_principal(org.principals[0].clone())
        .context("the demo admin as bot editor")?;
    let r = app
        .import_faqs(
            &editor,
            crate::kb_cli::DEMO_FAQ,
            app::bot::kb_io::SheetFormat::Csv,
            domain::KbStatus::Published,
            false,
        )
        .await
        .context("importing the demo FAQ")?;
    if let Some((row, e)) = r.errors.first() {
        anyhow::bail!("the demo FAQ has a bad row {row}: {}: {}", e[0].column, e[0].message);
    }
    progress("FAQ", r.created as u64, r.rows as u64);
    let lines: Vec<&str> =
        DEMO_TEMPLATES.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).collect();
    for (i, line) in lines.iter().enumerate() {
        let f: Vec<&str> = line.split('\t').collect();
        let [name, category, tags, lang, body] = f[..] else {
            anyhow::bail!("demo reply template line {}: expected 5 tab-separated fields", i + 1);
        };
        app.create_template(
            &editor,
            app::bot::assist::NewTemplate {
                name: name.to_owned(),
                body: body.replace("\\n", "\n"),
                category: category.to_owned(),
                tags: tags.split(',').map(str::to_owned).collect(),
                lang: domain::KbLang::parse(lang)?,
            },
        )
        .await
        .with_context(|| format!("creating the demo reply template {name}"))?;
        progress("reply templates", i as u64 + 1, lines.len() as u64);
    }
    Ok(())
}

const DEMO_TEMPLATES: &str = include_str!("../data/demo_reply_templates.tsv");

async fn setup(
    app: &App,
    clock: &ManualClock,
    at: i64,
    progress: &dyn Fn(&str, u64, u64),
) -> anyhow::Result<Org> {
    let total = (STAFF.len() + TEAMS.len()) as u64;
    let mut t = at;
    clock.set(Timestamp::from_millis(t));
    let (ws, admin) = app
        .create_workspace(NewWorkspace {
            slug: SLUG.into(),
            name: "慧听演示电器商城".into(),
            ticket_prefix: "HT".into(),
            admin_email: Email::parse(STAFF[0].0)?,
            admin_name: STAFF[0].1.into(),
            admin_password: PASSWORD.into(),
        })
        .await
        .context("creating the demo workspace")?;
    progress("staff", 1, total);
    let mut users = vec![admin];
    for (i, &(email, name, role, dept)) in STAFF.iter().enumerate().skip(1) {
        t += 2 * MIN;
        clock.set(Timestamp::from_millis(t));
        let u = app
            .seed_user(ws.id, Email::parse(email)?, name, role, dept, PASSWORD)
            .await
            .with_context(|| format!("creating user {email}"))?;
        users.push(u);
        progress("staff", i as u64 + 1, total);
    }
    let principal = |u: &User, teams: Vec<TeamId>| Principal {
        workspace: ws.id,
        actor: Actor::User(u.id),
        role: u.role,
        user: Some(u.id),
        department: u.department,
        teams,
        csrf_token: None,
    };
    let manager = Manager::from_principal(principal(&users[0], Vec::new()))?;
    let mut teams = Vec::new();
    for (i, &(name, dept, skills, members)) in TEAMS.iter().enumerate() {
        t += MIN;
        clock.set(Timestamp::from_millis(t));
        let team = app
            .create_team(
                &manager,
                NewTeam {
                    name: name.into(),
                    kind: if dept.is_some() { TeamKind::Department } else { TeamKind::Frontline },
                    department: dept,
                    skills: skills.iter().map(|s| s.to_string()).collect(),
                    members: members.iter().map(|&m| users[m].id).collect(),
                },
            )
            .await
            .with_context(|| format!("creating team {name}"))?;
        teams.push(team.id);
        progress("staff", (STAFF.len() + i + 1) as u64, total);
    }
    let principals = users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let mine = TEAMS
                .iter()
                .zip(&teams)
                .filter(|((_, _, _, m), _)| m.contains(&i))
                .map(|(_, id)| *id)
                .collect();
            principal(u, mine)
        })
        .collect();
    Ok(Org { ws, users, principals, teams, customers: Vec::new() })
}

// ---------------------------------------------------------------------------------------------
// Catalogue and customers

const INSTALL: u8 = 1;
const BOARD: u8 = 2;
const BATTERY: u8 = 4;

struct Product {
    sku: &'static str,
    name: &'static str,
    en: &'static str,
    price: u32,
    flags: u8,
}

const fn product(
    sku: &'static str,
    name: &'static str,
    en: &'static str,
    price: u32,
    flags: u8,
) -> Product {
    Product { sku, name, en, price, flags }
}

/// The shop's catalogue; orders on customers and tickets refer to these SKUs.
const CATALOGUE: &[Product] = &[
    product(
        "HT-AC-3501",
        "变频空调 1.5匹",
        "1.5 HP inverter air conditioner",
        3299,
        INSTALL | BOARD,
    ),
    product(
        "HT-AC-3502",
        "立式柜机空调 3匹",
        "3 HP floor-standing air conditioner",
        6999,
        INSTALL | BOARD,
    ),
    product("HT-TV-5501", "55寸4K智能电视", "55-inch 4K smart TV", 2899, INSTALL | BOARD),
    product("HT-TV-6502", "65寸电视", "65-inch TV", 4599, INSTALL | BOARD),
    product("HT-TV-7503", "75寸MiniLED电视", "75-inch Mini LED TV", 8999, INSTALL | BOARD),
    product("HT-RF-4501", "十字对开门冰箱 450L", "450 L French-door fridge", 5499, BOARD),
    product("HT-WM-1001", "滚筒洗衣机 10kg", "10 kg front-load washer", 2999, INSTALL | BOARD),
    product("HT-WM-1002", "洗烘一体机 10kg", "10 kg washer-dryer", 4299, INSTALL | BOARD),
    product(
        "HT-DW-1301",
        "嵌入式洗碗机 13套",
        "13-place built-in dishwasher",
        4599,
        INSTALL | BOARD,
    ),
    product("HT-WH-6001", "燃气热水器 16L", "16 L gas water heater", 2399, INSTALL | BOARD),
    product("HT-EH-6002", "储水式电热水器 60L", "60 L electric water heater", 1599, INSTALL),
    product("HT-RV-2001", "扫地机器人 X20", "X20 robot vacuum", 2499, BATTERY | BOARD),
    product("HT-FW-2002", "无线洗地机 W10", "W10 cordless floor washer", 1999, BATTERY),
    product("HT-EP-0301", "降噪蓝牙耳机 Pro", "Pro noise-cancelling earbuds", 899, BATTERY),
    product("HT-EP-0302", "运动蓝牙耳机", "sports Bluetooth earbuds", 399, BATTERY),
    product("HT-PH-1201", "智能手机 Note 12", "Note 12 smartphone", 2599, BATTERY | BOARD),
    product("HT-NB-1401", "轻薄笔记本 14英寸", "14-inch ultrabook", 5299, BATTERY | BOARD),
    product("HT-AP-0801", "空气净化器 P8", "P8 air purifier", 1299, BOARD),
    product("HT-MW-0201", "变频微波炉 23L", "23 L inverter microwave", 599, BOARD),
    product("HT-RC-0401", "IH电饭煲 4L", "4 L IH rice cooker", 699, 0),
    product("HT-RH-0501", "油汀电暖器", "oil-filled radiator", 599, 0),
    product("HT-SB-0901", "回音壁音响", "soundbar", 1499, BOARD),
];

fn sku(s: &str) -> &'static Product {
    CATALOGUE.iter().find(|p| p.sku == s).unwrap_or(&CATALOGUE[0])
}

#[rustfmt::skip]
const SURNAMES: &[(&str, &str)] = &[
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"),
    ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"),
    ("何", "he"), ("高", "gao"), ("林", "lin"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"), ("彭", "peng"), ("曾", "zeng"), ("肖", "xiao"),
    ("田", "tian"), ("董", "dong"), ("潘", "pan"), ("袁", "yuan"), ("蔡", "cai"), ("蒋", "jiang"), ("余", "yu"), ("杜", "du"),
];

#[rustfmt::skip]
const GIVEN: &[(&str, &str)] = &[
    ("伟", "wei"), ("芳", "fang"), ("秀英", "xiuying"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("强", "qiang"),
    ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"),
    ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀兰", "xiulan"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"),
    ("桂英", "guiying"), ("子涵", "zihan"), ("梓萱", "zixuan"), ("浩然", "haoran"), ("宇轩", "yuxuan"), ("欣怡", "xinyi"), ("思远", "siyuan"),
    ("雨桐", "yutong"), ("俊杰", "junjie"), ("晓东", "xiaodong"), ("海燕", "haiyan"), ("建华", "jianhua"), ("国强", "guoqiang"), ("玉兰", "yulan"),
    ("志明", "zhiming"), ("佳琪", "jiaqi"), ("一鸣", "yiming"), ("诗涵", "shihan"), ("文博", "wenbo"), ("美玲", "meiling"), ("建军", "jianjun"),
];

#[rustfmt::skip]
const CITIES: &[&str] = &[
    "北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安", "重庆", "苏州", "天津",
    "长沙", "郑州", "青岛", "厦门", "合肥", "宁波", "东莞", "佛山", "济南", "昆明", "沈阳", "福州",
];

const ENGLISH_CUSTOMERS: &[(&str, &str, Option<&str>, &str)] = &[
    ("James Miller", "james.miller@outlook.com", Some("+1 415 555 0132"), "上海"),
    ("Emily Clarke", "emily.clarke@gmail.com", Some("+44 20 7946 0958"), "北京"),
    ("Daniel Kim", "daniel.kim@gmail.com", None, "深圳"),
    ("Sophie Martin", "sophie.martin@yahoo.com", None, "上海"),
    ("Lucas Rossi", "lucas.rossi@gmail.com", None, "广州"),
    ("Priya Sharma", "priya.sharma@outlook.com", None, "杭州"),
    ("Oliver Bennett", "oliver.bennett@icloud.com", None, "成都"),
    ("Hannah Becker", "hannah.becker@gmx.de", Some("+49 30 901820"), "北京"),
];

const CHINESE_CUSTOMERS: usize = 232;

struct Person {
    name: String,
    vip: bool,
    english: bool,
    city: &'static str,
    phone: String,
    email: Option<String>,
    external: Vec<String>,
    attributes: Vec<(String, String)>,
}

/// Unique phone numbers and names across the customers and the web visitors.
#[derive(Default)]
struct Uniq {
    phones: HashSet<String>,
    names: HashSet<String>,
    emails: HashSet<String>,
}

fn chinese_name(rng: &mut Rng, uniq: &mut Uniq) -> (String, &'static str, &'static str) {
    loop {
        let (s, sp) = *rng.pick(SURNAMES);
        let (g, gp) = *rng.pick(GIVEN);
        let name = format!("{s}{g}");
        if uniq.names.insert(name.clone()) {
            return (name, sp, gp);
        }
    }
}

fn mobile(rng: &mut Rng, uniq: &mut Uniq) -> String {
    const PREFIXES: &[&str] = &[
        "138", "139", "137", "136", "135", "150", "151", "152", "158", "159", "182", "186", "187",
        "188", "189", "177", "180", "199",
    ];
    loop {
        let p =
            format!("+86 {} {:04} {:04}", rng.pick(PREFIXES), rng.below(10_000), rng.below(10_000));
        if uniq.phones.insert(p.clone()) {
            return p;
        }
    }
}

fn order_no(rng: &mut Rng, at: i64) -> String {
    let (y, m, d) = ymd(at);
    format!("DD{y:04}{m:02}{d:02}{:06}", rng.below(1_000_000))
}

fn people(rng: &mut Rng, end: i64) -> Vec<Person> {
    let mut uniq = Uniq::default();
    let mut out = Vec::new();
    for i in 0..CHINESE_CUSTOMERS + ENGLISH_CUSTOMERS.len() {
        let english = i >= CHINESE_CUSTOMERS;
        let vip = if english {
            i == CHINESE_CUSTOMERS || i == CHINESE_CUSTOMERS + 5
        } else {
            rng.chance(0.15)
        };
        let (name, city, phone, email) = if english {
            let (name, email, phone, city) = ENGLISH_CUSTOMERS[i - CHINESE_CUSTOMERS];
            let phone = match phone {
                Some(p) => p.to_string(),
                None => mobile(rng, &mut uniq),
            };
            (name.to_string(), city, phone, Some(email.to_string()))
        } else {
            let (name, sp, gp) = chinese_name(rng, &mut uniq);
            let email = if rng.chance(0.4) {
                const DOMAINS: &[&str] =
                    &["163.com", "126.com", "qq.com", "outlook.com", "foxmail.com", "sina.com"];
                let domain = rng.pick(DOMAINS);
                let local = if *domain == "qq.com" {
                    format!("{}", 100_000_000 + rng.below(3_000_000_000))
                } else {
                    format!("{gp}.{sp}{}", 60 + rng.below(45))
                };
                let e = format!("{local}@{domain}");
                uniq.emails.insert(e.clone()).then_some(e)
            } else {
                None
            };
            (name, *rng.pick(CITIES), mobile(rng, &mut uniq), email)
        };
        let mut external = vec![format!("shop:{}", 1_000_000 + i * 37 + rng.below(30) as usize)];
        if !english && rng.chance(0.2) {
            external.push(format!("wechat:o{}", rng.token(27)));
        }
        let product = rng.pick(CATALOGUE);
        let last_order = end - rng.range(20, 400) * DAY;
        let (sy, sm, sd) = ymd(end - rng.range(60, 2400) * DAY);
        let (oy, om, od) = ymd(last_order);
        let (spend, orders) = if vip {
            (rng.range(20_000, 128_000), rng.range(10, 60))
        } else {
            (rng.range(300, 16_000), rng.range(1, 12))
        };
        let mut attributes = vec![
            ("city".to_string(), city.to_string()),
            ("member_since".to_string(), format!("{sy:04}-{sm:02}-{sd:02}")),
            ("orders_count".to_string(), orders.to_string()),
            ("total_spend".to_string(), format!("{spend}.00")),
            ("last_order_no".to_string(), order_no(rng, last_order)),
            ("last_order_date".to_string(), format!("{oy:04}-{om:02}-{od:02}")),
            ("last_order_sku".to_string(), product.sku.to_string()),
            ("last_order_product".to_string(), product.name.to_string()),
        ];
        if english {
            attributes.push(("language".to_string(), "en".to_string()));
        }
        if vip {
            attributes.push((
                "member_level".to_string(),
                if spend > 60_000 { "钻石会员" } else { "金卡会员" }.to_string(),
            ));
        }
        out.push(Person { name, vip, english, city, phone, email, external, attributes });
    }
    out
}

async fn import_customers(
    app: &App,
    clock: &ManualClock,
    org: &mut Org,
    people: &[Person],
    at: i64,
    progress: &dyn Fn(&str, u64, u64),
) -> anyhow::Result<()> {
    // The CRM import is run by the admin.
    let admin = org.agent(0)?;
    for (i, p) in people.iter().enumerate() {
        clock.set(Timestamp::from_millis(at + i as i64 * 7_000));
        let mut identities = vec![Identity::phone(&Phone::parse(&p.phone)?)];
        if let Some(e) = &p.email {
            identities.push(Identity::email(&Email::parse(e)?));
        }
        for x in &p.external {
            identities.push(Identity::external(x)?);
        }
        let c = app
            .create_customer(
                &admin,
                NewCustomer {
                    name: p.name.clone(),
                    tier: Some(if p.vip { Tier::Vip } else { Tier::Ordinary }),
                    identities,
                    attributes: p.attributes.clone(),
                },
            )
            .await
            .with_context(|| format!("creating customer {}", p.name))?;
        org.customers.push(c.id);
        progress("customers", i as u64 + 1, people.len() as u64);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Cases: what happens in the month, planned first and then replayed in time order

#[derive(Clone, Copy)]
enum By {
    Agent,
    Supervisor,
    Head,
    Dept(Department),
}

struct TicketSpec {
    subject: String,
    code: Option<&'static str>,
    severity: Severity,
    urgency: Urgency,
    tags: Vec<String>,
    fields: Vec<(String, String)>,
}

enum Step {
    /// The customer's first message opens the conversation.
    Open {
        subject: Option<String>,
        body: String,
    },
    Customer(String),
    /// A public message from the case's agent; `{no}` becomes the ticket number.
    Reply(String),
    Note(By, String),
    Ticket(Box<TicketSpec>),
    PickUp,
    ToDept(Department),
    Stage(&'static str),
    Status(Status),
    Field(&'static str, String),
    Resolve,
}

struct Case {
    customer: Option<usize>,
    /// A first-time web visitor (no customer record yet).
    visitor: Option<Hello>,
    channel: Channel,
    agent: usize,
    supervisor: usize,
    team: usize,
    /// Whether the ticket lands in the team queue (e-mail and web forms) instead of an agent.
    queued: bool,
    steps: Vec<(i64, Step)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Delivery,
    Refund,
    Mainboard,
    RepairOverdue,
    Coupon,
    Privacy,
    Install,
    Invoice,
    NoPower,
    Cosmetic,
    Missing,
    Attitude,
    PriceProtect,
    Battery,
    Suggestion,
    FalseAd,
    Safety,
    EnDelivery,
    EnRefund,
    EnInvoice,
    Presale,
    Specs,
    TradeIn,
    Warranty,
    Points,
    Address,
    EInvoice,
    EnInquiry,
}

/// How many cases of each kind the month holds: 181 become tickets, 120 stay conversations.
const MIX: &[(Kind, usize)] = &[
    (Kind::Delivery, 26),
    (Kind::Refund, 20),
    (Kind::Mainboard, 14),
    (Kind::RepairOverdue, 9),
    (Kind::Coupon, 10),
    (Kind::Privacy, 4),
    (Kind::Install, 18),
    (Kind::Invoice, 12),
    (Kind::NoPower, 10),
    (Kind::Cosmetic, 8),
    (Kind::Missing, 7),
    (Kind::Attitude, 5),
    (Kind::PriceProtect, 7),
    (Kind::Battery, 12),
    (Kind::Suggestion, 6),
    (Kind::FalseAd, 2),
    (Kind::Safety, 2),
    (Kind::EnDelivery, 4),
    (Kind::EnRefund, 3),
    (Kind::EnInvoice, 2),
    (Kind::Presale, 31),
    (Kind::Specs, 20),
    (Kind::TradeIn, 12),
    (Kind::Warranty, 15),
    (Kind::Points, 10),
    (Kind::Address, 14),
    (Kind::EInvoice, 10),
    (Kind::EnInquiry, 8),
];

impl Kind {
    fn english(self) -> bool {
        matches!(self, Kind::EnDelivery | Kind::EnRefund | Kind::EnInvoice | Kind::EnInquiry)
    }
    fn presale(self) -> bool {
        matches!(self, Kind::Presale | Kind::Specs | Kind::TradeIn | Kind::Suggestion)
    }
    fn channels(self) -> &'static [Channel] {
        use Channel::*;
        match self {
            Kind::Delivery => &[WebChat, App, Phone, Social, Sms, WebChat, App],
            Kind::Refund => &[WebChat, App, Phone, Email, Social],
            Kind::Mainboard => &[Phone, WebChat, App, WebForm],
            Kind::RepairOverdue => &[Phone, Social, WebChat, Email],
            Kind::Coupon | Kind::PriceProtect => &[App, WebChat, Social],
            Kind::Privacy => &[Email, WebForm, Social],
            Kind::Install => &[App, WebChat, Phone, Sms],
            Kind::Invoice => &[Email, WebForm, App],
            Kind::NoPower => &[WebChat, App, Phone],
            Kind::Cosmetic => &[App, WebChat, WebForm],
            Kind::Missing => &[App, WebChat, Sms],
            Kind::Attitude => &[Phone, Social, Email],
            Kind::Battery => &[App, WebChat, Phone, WebForm],
            Kind::Suggestion => &[App, WebForm, Email],
            Kind::FalseAd => &[Email, Social],
            Kind::Safety => &[Phone, App],
            Kind::EnDelivery | Kind::EnRefund => &[Email, WebChat, App],
            Kind::EnInvoice => &[Email],
            Kind::Presale | Kind::Specs => &[WebChat, App, WebChat, Social],
            Kind::TradeIn => &[WebChat, Phone, App],
            Kind::Warranty => &[Phone, WebChat, Sms],
            Kind::Points => &[App, WebChat, Sms],
            Kind::Address => &[WebChat, App, Phone],
            Kind::EInvoice => &[App, WebChat, Email],
            Kind::EnInquiry => &[WebChat, Email],
        }
    }
    /// Products a case of this kind can be about.
    fn fits(self, p: &Product) -> bool {
        match self {
            Kind::Mainboard | Kind::RepairOverdue => p.flags & BOARD != 0,
            Kind::Install => p.flags & INSTALL != 0,
            Kind::Battery => p.flags & BATTERY != 0,
            Kind::FalseAd => {
                p.sku.starts_with("HT-AC")
                    || p.sku.starts_with("HT-RF")
                    || p.sku.starts_with("HT-WM")
            }
            _ => true,
        }
    }
}

const HOUR_WEIGHTS: [u64; 24] =
    [1, 1, 0, 0, 0, 1, 2, 4, 9, 14, 16, 15, 10, 11, 15, 15, 13, 11, 9, 10, 12, 10, 6, 3];

/// A moment on local day `day` (0-based from `start`) with business-hour peaks.
fn moment(rng: &mut Rng, start: i64, day: i64) -> i64 {
    let total: u64 = HOUR_WEIGHTS.iter().sum();
    let mut r = rng.below(total);
    let mut hour = 0;
    for (h, w) in HOUR_WEIGHTS.iter().enumerate() {
        if r < *w {
            hour = h as i64;
            break;
        }
        r -= w;
    }
    local_midnight(start)
        + (day + 1) * DAY
        + hour * HOUR
        + rng.range(0, 59) * MIN
        + rng.range(0, 59) * 1000
}

fn plan(rng: &mut Rng, people: &[Person], start: i64, end: i64) -> Vec<Case> {
    let mut kinds: Vec<Kind> = MIX.iter().flat_map(|&(k, n)| std::iter::repeat_n(k, n)).collect();
    rng.shuffle(&mut kinds);
    let english: Vec<usize> = (0..people.len()).filter(|&i| people[i].english).collect();
    let chinese: Vec<usize> = (0..people.len()).filter(|&i| !people[i].english).collect();
    let vips: Vec<usize> = chinese.iter().copied().filter(|&i| people[i].vip).collect();
    let mut uniq = Uniq::default();
    for p in people {
        uniq.names.insert(p.name.clone());
        uniq.phones.insert(p.phone.clone());
    }
    let mut safety = 0;
    let mut cases = Vec::new();
    for kind in kinds {
        if kind == Kind::Safety {
            safety += 1;
        }
        let t0 = loop {
            let day = match kind {
                // A batch of X20 batteries fails in the last two weeks: a visible cluster.
                Kind::Battery => rng.range(17, 29),
                Kind::Safety if safety == 1 => 8,
                Kind::Safety => 21,
                _ => rng.range(0, 29),
            };
            let t = moment(rng, start, day);
            if t > start && t < end - 20 * MIN {
                break t;
            }
        };
        let channel = *rng.pick(kind.channels());
        let web = matches!(channel, Channel::WebChat | Channel::App);
        let (customer, visitor) = if kind.english() {
            (Some(*rng.pick(&english)), None)
        } else if web && kind.presale() && rng.chance(0.35) {
            let (name, _, _) = chinese_name(rng, &mut uniq);
            let phone =
                if rng.chance(0.5) { Phone::parse(&mobile(rng, &mut uniq)).ok() } else { None };
            (
                None,
                Some(Hello { name: Some(name), phone, channel: Some(channel), ..Hello::default() }),
            )
        } else if rng.chance(0.1) {
            (Some(*rng.pick(&vips)), None)
        } else {
            (Some(*rng.pick(&chinese)), None)
        };
        let vip = customer.is_some_and(|c| people[c].vip);
        let (team, agent) = match kind {
            _ if kind.english() => (ENGLISH, *rng.pick(&ENGLISH_AGENTS)),
            Kind::Safety => (dept_team(Department::Quality), SUPERVISORS[0]),
            Kind::Attitude => (AFTERSALES, SUPERVISORS[1]),
            _ if vip => (VIP, *rng.pick(&VIP_AGENTS)),
            _ if kind.presale() => (PRESALE, *rng.pick(&PRESALE_AGENTS)),
            _ => (AFTERSALES, *rng.pick(&AFTERSALES_AGENTS)),
        };
        let supervisor =
            if agent == SUPERVISORS[0] { SUPERVISORS[1] } else { *rng.pick(&SUPERVISORS) };
        let product = loop {
            let p = match kind {
                Kind::Battery if rng.chance(0.75) => sku("HT-RV-2001"),
                Kind::Safety if safety == 1 => sku("HT-EH-6002"),
                Kind::Safety => sku("HT-RH-0501"),
                _ => rng.pick(CATALOGUE),
            };
            if kind.fits(p) {
                break p;
            }
        };
        let name = match (customer, &visitor) {
            (Some(c), _) => people[c].name.clone(),
            (None, Some(h)) => h.name.clone().unwrap_or_default(),
            (None, None) => String::new(),
        };
        let city = customer.map_or_else(|| *rng.pick(CITIES), |c| people[c].city);
        let vars = vars(rng, t0, product, &name, STAFF[agent].1, STAFF[supervisor].1, city);
        // Tickets from the last hours are still waiting in the team queue.
        let untriaged = t0 > end - 20 * HOUR;
        let queued = untriaged || matches!(channel, Channel::Email | Channel::WebForm);
        let mut s = Script {
            rng,
            vars,
            channel,
            vip,
            queued,
            untriaged,
            frozen: false,
            t: t0,
            steps: Vec::new(),
            said: String::new(),
        };
        write_script(&mut s, kind, product);
        let steps = s.steps;
        cases.push(Case { customer, visitor, channel, agent, supervisor, team, queued, steps });
    }
    cases
}

fn vars(
    rng: &mut Rng,
    t0: i64,
    p: &Product,
    customer: &str,
    agent: &str,
    supervisor: &str,
    city: &str,
) -> Vec<(&'static str, String)> {
    const COMPANIES: &[(&str, &str)] = &[
        ("杭州云启科技有限公司", "Hangzhou Yunqi Technology Co., Ltd."),
        ("上海明川贸易有限公司", "Shanghai Mingchuan Trading Co., Ltd."),
        ("深圳市星河电子有限公司", "Shenzhen Xinghe Electronics Co., Ltd."),
        ("北京博远咨询有限公司", "Beijing Boyuan Consulting Co., Ltd."),
        ("成都天府餐饮管理有限公司", "Chengdu Tianfu Catering Management Co., Ltd."),
        ("苏州青禾设计工作室", "Suzhou Qinghe Design Studio"),
    ];
    const PARTS_INSTALL: &[&str] = &["安装支架", "遥控器", "进水管"];
    const PARTS_BATTERY: &[&str] = &["充电线", "充电底座", "备用滤网"];
    const PARTS_OTHER: &[&str] = &["电源线", "说明书和保修卡", "遥控器"];
    let days = rng.range(3, 9);
    let date = |ms: i64| {
        let (_, m, d) = ymd(ms);
        format!("{m}月{d}日")
    };
    let (company, company_en) = *rng.pick(COMPANIES);
    let parts = if p.flags & INSTALL != 0 {
        PARTS_INSTALL
    } else if p.flags & BATTERY != 0 {
        PARTS_BATTERY
    } else {
        PARTS_OTHER
    };
    let (ry, rm, rd) = ymd(t0 - rng.range(12, 25) * DAY);
    let first = customer.split_whitespace().next().unwrap_or(customer).to_string();
    vec![
        ("{product}", p.name.to_string()),
        ("{product_en}", p.en.to_string()),
        ("{sku}", p.sku.to_string()),
        ("{price}", p.price.to_string()),
        ("{order}", order_no(rng, t0 - days * DAY)),
        ("{customer}", customer.to_string()),
        ("{first}", first),
        ("{agent}", agent.to_string()),
        ("{supervisor}", supervisor.to_string()),
        ("{city}", city.to_string()),
        ("{days}", days.to_string()),
        ("{days2}", rng.range(12, 25).to_string()),
        ("{over}", rng.range(3, 12).to_string()),
        ("{months}", rng.range(2, 18).to_string()),
        ("{date}", date(t0 + DAY)),
        ("{returned}", date(t0 - rng.range(2, 6) * DAY)),
        (
            "{courier}",
            format!("SF{:04}{:04}{:04}", rng.below(10_000), rng.below(10_000), rng.below(10_000)),
        ),
        ("{repair}", format!("WX{ry:04}{rm:02}{rd:02}{:04}", rng.below(10_000))),
        ("{serial}", rng.token(12).to_uppercase()),
        ("{amount}", rng.pick(&[20, 30, 50, 100]).to_string()),
        ("{coupon}", rng.pick(&[100, 200, 300]).to_string()),
        ("{threshold}", rng.pick(&[1000, 2000, 3000]).to_string()),
        ("{diff}", rng.pick(&[100, 150, 200, 300, 500]).to_string()),
        ("{company}", company.to_string()),
        ("{company_en}", company_en.to_string()),
        (
            "{taxid}",
            format!(
                "91{:06}MA{:04}{:05}",
                rng.below(1_000_000),
                rng.token(4).to_uppercase(),
                rng.below(100_000)
            ),
        ),
        ("{part}", rng.pick(parts).to_string()),
        (
            "{caller}",
            format!("0{} {:04} {:04}", rng.range(10, 99), rng.below(10_000), rng.below(10_000)),
        ),
    ]
}

fn fill(tpl: &str, vars: &[(&'static str, String)]) -> String {
    let mut s = tpl.to_string();
    for (k, v) in vars {
        if s.contains(k) {
            s = s.replace(k, v);
        }
    }
    s
}

/// TK-1: urgency from the customer's own words.
fn urgency_of(text: &str) -> Urgency {
    const CRITICAL: &[&str] =
        &["漏电", "触电", "被电", "起火", "着火", "火灾", "冒烟", "烧焦", "爆炸", "smoke", "fire"];
    const URGENT: &[&str] = &["退款", "投诉", "12315", "虚假宣传", "赔", "refund", "complain"];
    let lower = text.to_lowercase();
    if CRITICAL.iter().any(|k| lower.contains(k)) {
        Urgency::Critical
    } else if URGENT.iter().any(|k| lower.contains(k)) {
        Urgency::Urgent
    } else {
        Urgency::Normal
    }
}

/// Builds one case's steps; time moves forward between steps, staff act in working hours.
struct Script<'r> {
    rng: &'r mut Rng,
    vars: Vec<(&'static str, String)>,
    channel: Channel,
    vip: bool,
    /// The ticket goes to the team queue and an agent picks it up.
    queued: bool,
    /// Nobody has picked the ticket up yet: the script ends with it.
    untriaged: bool,
    frozen: bool,
    t: i64,
    steps: Vec<(i64, Step)>,
    /// Everything the customer said so far, for the urgency keywords.
    said: String,
}

impl Script<'_> {
    fn text(&mut self, v: &[&str]) -> String {
        let tpl = *self.rng.pick(v);
        fill(tpl, &self.vars)
    }

    fn at(&mut self, lo: i64, hi: i64, staff: bool, step: Step) {
        if self.frozen {
            return;
        }
        self.t += self.rng.range(lo * MIN, hi.max(lo) * MIN).max(1000);
        let (from, to) = if staff { (8, 22) } else { (7, 23) };
        let h = local_hour(self.t);
        if h < from || h >= to {
            let next = local_midnight(self.t) + if h >= to { DAY } else { 0 };
            self.t = next + from * HOUR + 20 * MIN + self.rng.range(0, 80) * MIN;
        }
        self.steps.push((self.t, step));
    }

    fn open(&mut self, subject: &[&str], v: &[&str]) {
        let body = self.text(v);
        self.said.push_str(&body);
        let body =
            if self.channel == Channel::Phone { format!("【通话记录】{body}") } else { body };
        let subject =
            matches!(self.channel, Channel::Email | Channel::WebForm).then(|| self.text(subject));
        let t = self.t;
        self.steps.push((t, Step::Open { subject, body }));
    }

    fn cust(&mut self, lo: i64, hi: i64, v: &[&str]) {
        let body = self.text(v);
        self.said.push_str(&body);
        self.at(lo, hi, false, Step::Customer(body));
    }

    fn reply(&mut self, lo: i64, hi: i64, v: &[&str]) {
        let body = self.text(v);
        self.at(lo, hi, true, Step::Reply(body));
    }

    fn note(&mut self, lo: i64, hi: i64, by: By, v: &[&str]) {
        let body = self.text(v);
        self.at(lo, hi, true, Step::Note(by, body));
    }

    fn act(&mut self, lo: i64, hi: i64, step: Step) {
        self.at(lo, hi, true, step);
    }

    fn ticket(
        &mut self,
        subject: &[&str],
        code: Option<&'static str>,
        severity: Severity,
        tags: &[&str],
        fields: &[(&str, &str)],
    ) {
        let mut severity = severity;
        let mut tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        if self.vip {
            tags.push("vip".into());
            // A VIP's broken product is a service interruption (TK-2 L2).
            if severity == Severity::L3 && code.is_some_and(|c| c.starts_with("PQ")) {
                severity = Severity::L2;
            }
        }
        let spec = TicketSpec {
            subject: self.text(subject),
            code,
            severity,
            urgency: urgency_of(&self.said),
            tags,
            fields: fields.iter().map(|(k, v)| (k.to_string(), fill(v, &self.vars))).collect(),
        };
        self.act(1, 6, Step::Ticket(Box::new(spec)));
        if self.untriaged {
            self.frozen = true;
        } else if self.queued {
            self.act(10, 180, Step::PickUp);
        }
    }

    fn field(&mut self, k: &'static str, v: &str) {
        let v = fill(v, &self.vars);
        self.act(0, 1, Step::Field(k, v));
    }

    fn status(&mut self, lo: i64, hi: i64, s: Status) {
        self.act(lo, hi, Step::Status(s));
    }

    fn stage(&mut self, key: &'static str) {
        self.act(0, 1, Step::Stage(key));
    }

    /// Hands the ticket to a department team and waits for it (TK-6).
    fn involve(&mut self, d: Department, note: &[&str]) {
        self.act(5, 40, Step::ToDept(d));
        self.note(0, 2, By::Agent, note);
        self.status(0, 1, Status::OnHold);
        self.stage("investigating");
    }

    /// Waits for the customer to confirm (pending); their answer takes the ticket back to open.
    fn await_customer(&mut self, v: &[&str]) {
        self.status(0, 1, Status::Pending);
        self.cust(D, 3 * D, v);
    }

    /// The usual ending: solved, then closed after the customer's confirmation or silence.
    fn solve_and_close(&mut self) {
        self.status(5, 60, Status::Solved);
        self.status(D, 3 * D, Status::Closed);
    }
}

const D: i64 = 24 * 60;

fn write_script(s: &mut Script<'_>, kind: Kind, p: &Product) {
    use Department::*;
    match kind {
        Kind::Delivery => {
            s.open(
                &["订单{order}物流延误"],
                &[
                    "你好，我{days}天前下单的{product}，订单号{order}，到现在物流还没更新，什么时候能到？",
                    "订单{order}显示已发货{days}天了，物流一直停在{city}转运中心不动，麻烦帮我查一下。",
                    "我买的{product}说好3天送到，现在都{days}天了还没到，再不到我就要投诉了！",
                ],
            );
            s.reply(
                1,
                8,
                &[
                    "您好，我是客服{agent}，非常抱歉让您久等了。我马上帮您核实订单{order}的物流情况，请稍等。",
                    "您好{customer}，已收到您的反馈。订单{order}的快递单号是{courier}，我先帮您联系仓库和承运商核实。",
                ],
            );
            s.cust(
                1,
                10,
                &[
                    "麻烦快一点，周末家里要用。",
                    "好的，尽快给我个准话。",
                    "我专门请了假在家等，结果白等一天。",
                ],
            );
            s.ticket(
                &["订单{order}物流延误（{product}）"],
                Some("SP-05"),
                Severity::L3,
                &["物流延误"],
                &[("order_no", "{order}"), ("sku", "{sku}"), ("courier_no", "{courier}")],
            );
            s.reply(1, 5, &["已为您登记工单{no}，物流专员今天内会给您答复，进度可以通过短信里的链接随时查看。"]);
            s.involve(
                Logistics,
                &["@韩冬 订单{order}（快递单号{courier}）物流轨迹{days}天未更新，客户比较着急，请协调承运商核实包裹位置，今天下班前回复。"],
            );
            s.note(
                3 * 60,
                D + 12 * 60,
                By::Dept(Logistics),
                &[
                    "已核实：包裹在{city}转运中心分拣时面单破损滞留，已重新贴单加急派送，预计明天送达。",
                    "承运商反馈派送车辆故障延误，包裹已转至同城网点，预计明天上午送达。",
                    "仓库漏发，已于今天重新出库，新单号已同步到订单，预计2天内送达。",
                ],
            );
            s.status(10, 60, Status::Open);
            s.reply(
                1,
                10,
                &["您好，经核实您的包裹因转运异常延误，现已加急派送，预计明天送达。给您带来不便非常抱歉，我们为您补偿了一张{amount}元无门槛券，已发放到您的账户。"],
            );
            s.stage("compensation");
            s.field("compensation", "{amount}元无门槛券");
            s.await_customer(&[
                "收到货了，谢谢。",
                "东西到了，下次希望别这么慢。",
                "收到了，券也看到了。",
            ]);
            s.solve_and_close();
        }
        Kind::Refund => {
            s.open(
                &["退款未到账（订单{order}）"],
                &[
                    "我{days}天前申请了退货退款，{product}已经寄回去了，到现在钱还没退回来。订单号{order}。",
                    "退款一直显示处理中，订单{order}，{price}元，什么时候能到账？再不退我就投诉到12315了。",
                    "你好，{product}的退款已经拖了一个多星期了，订单{order}，麻烦给个说法。",
                ],
            );
            s.reply(
                1,
                8,
                &["您好，我是{agent}，非常理解您的心情，我先帮您查一下订单{order}的退款进度。"],
            );
            s.ticket(
                &["退款未到账：订单{order} {price}元"],
                Some("TD-01"),
                Severity::L3,
                &["退款"],
                &[("order_no", "{order}"), ("sku", "{sku}"), ("refund_amount", "{price}")],
            );
            s.reply(
                2,
                10,
                &["查询到退货已于{returned}签收入库，我已创建工单{no}加急处理。麻烦您确认一下付款方式（支付宝、微信还是银行卡）？"],
            );
            s.status(0, 1, Status::Pending);
            s.cust(3, 90, &["微信支付的。", "用的招商银行信用卡。", "支付宝付的款。"]);
            s.involve(Finance, &["@何芳 订单{order}退货已于{returned}签收入库，退款{price}元仍未原路退回，请核实原因并加急处理。"]);
            s.note(
                4 * 60,
                2 * D,
                By::Dept(Finance),
                &[
                    "已核实：退款因原支付渠道返回失败被挂起，已重新发起原路退款，预计1–3个工作日到账。",
                    "系统批量退款任务异常，这笔已手工处理，今天内到账。",
                ],
            );
            s.status(10, 60, Status::Open);
            s.stage("planning");
            s.reply(
                1,
                10,
                &["您好，财务已重新为您发起退款{price}元，原路退回，预计1–3个工作日到账，请留意。"],
            );
            s.await_customer(&["已经到账了，谢谢。", "钱收到了。"]);
            s.solve_and_close();
        }
        Kind::Mainboard => {
            s.open(
                &["{product}开机异常"],
                &[
                    "{product}用了才{months}个月，今天突然黑屏，开机后指示灯一直闪，怎么办？",
                    "我家{product}开机几分钟就自动重启，反复好几次了，是不是坏了？",
                    "{product}突然不工作了，显示故障代码E5，断电重启也没用。",
                ],
            );
            s.reply(2, 10, &["您好，我是{agent}。麻烦您先断电5分钟后再重新上电试试，如果仍然不行，请告诉我机身背面的序列号。"]);
            s.cust(
                5,
                30,
                &["试过了还是不行，序列号是SN{serial}。", "没用，还是一样。序列号SN{serial}。"],
            );
            s.ticket(
                &["{product}开机异常，疑似主板故障"],
                Some("PQ-03"),
                Severity::L3,
                &["主板故障", "上门维修"],
                &[("order_no", "{order}"), ("sku", "{sku}"), ("serial_no", "SN{serial}")],
            );
            s.reply(
                1,
                5,
                &["已为您创建维修工单{no}，技术工程师会在24小时内给出诊断结论，请保持电话畅通。"],
            );
            s.involve(Tech, &["@郑浩 客户{product}（SKU {sku}，SN{serial}）开机反复重启，断电重启无效，疑似主板故障，请24小时内给出诊断结论。"]);
            s.note(
                6 * 60,
                2 * D,
                By::Dept(Tech),
                &[
                    "远程诊断：故障日志显示主板电源管理模块异常，判定为主板故障（PQ-03），在保修期内，建议上门更换主板。",
                    "同型号近期有3例类似报修，均为主板供电电容失效，已同步质量部跟踪；本例安排上门换板。",
                ],
            );
            s.status(10, 60, Status::Open);
            s.stage("planning");
            s.reply(1, 10, &["您好，工程师诊断为主板故障，属于保修范围。我们已安排工程师48小时内上门为您免费更换主板，师傅上门前会电话联系您。"]);
            s.cust(5, 120, &["好的，那天我在家。", "行，麻烦师傅准时一点。"]);
            s.reply(D, 2 * D, &["师傅已完成主板更换，麻烦您试用一下，有问题随时联系我。"]);
            s.status(0, 1, Status::Pending);
            s.cust(240, 1200, &["用了两天，一切正常，谢谢。", "修好了，没再重启。"]);
            s.status(5, 60, Status::Solved);
            if s.rng.chance(0.25) {
                // The repair did not hold: the customer's message reopens the ticket.
                s.cust(D, 3 * D, &["又开始自动重启了，这已经是第二次了！我要求换新机。"]);
                s.note(
                    30,
                    180,
                    By::Supervisor,
                    &["同意以换代修，按换新流程处理，@{agent} 今天内联系客户。"],
                );
                s.stage("compensation");
                s.field("compensation", "整机换新");
                s.reply(5, 60, &["非常抱歉给您带来困扰，经主管审批为您办理整机换新，新机预计3天内送达，旧机由师傅上门取回。"]);
                s.cust(10, 240, &["好吧，希望新的没问题。"]);
                s.solve_and_close();
            } else {
                s.status(D, 3 * D, Status::Closed);
            }
        }
        Kind::RepairOverdue => {
            s.open(
                &["维修单{repair}超期"],
                &[
                    "我的{product}送修已经{days2}天了，当时说7个工作日修好，现在一点消息都没有！维修单号{repair}。",
                    "维修超期了！{product}拿去修了两个多星期，打电话问了三次都说在等配件，我要投诉！维修单{repair}。",
                ],
            );
            s.reply(
                1,
                10,
                &["您好，非常抱歉给您添麻烦了，我是{agent}，马上帮您查询维修单{repair}的进度。"],
            );
            s.ticket(
                &["维修单{repair}超期未完成（{product}）"],
                Some("SP-12"),
                Severity::L3,
                &["维修超期", "投诉"],
                &[("repair_no", "{repair}"), ("sku", "{sku}"), ("order_no", "{order}")],
            );
            s.involve(Tech, &["@郑浩 维修单{repair}已超期{over}天，客户情绪激动，请确认配件到货时间和维修完成日期。"]);
            s.note(
                10,
                120,
                By::Supervisor,
                &["@{agent} 维修超期类投诉请每天给客户同步一次进度，必要时申请补偿。"],
            );
            s.note(
                240,
                1440,
                By::Dept(Tech),
                &["主板配件缺货，供应商承诺3个工作日内到货，到货后当天修好寄回。"],
            );
            s.reply(
                5,
                60,
                &["您好，维修配件预计3个工作日内到货，到货后当天修好寄回给您。为表歉意，我们为您申请了{amount}元E卡补偿，工单号{no}。"],
            );
            s.stage("compensation");
            s.field("compensation", "{amount}元E卡");
            s.note(
                3 * D,
                7 * D,
                By::Dept(Tech),
                &["配件已到，维修完成并已寄出，快递单号{courier}。"],
            );
            s.status(10, 120, Status::Open);
            s.reply(1, 30, &["您好，您的{product}已修好寄出，快递单号{courier}，请注意查收。"]);
            s.await_customer(&["收到了，能用了。", "修好了，但是这次真的等太久了。"]);
            s.solve_and_close();
        }
        Kind::Coupon => {
            s.open(
                &["优惠券未抵扣"],
                &[
                    "下单时页面显示满{threshold}减{coupon}，结算的时候优惠券没抵扣，订单{order}，多付了{coupon}元。",
                    "我领的{coupon}元优惠券显示已使用，但是订单{order}里根本没减，这不是坑人吗？",
                ],
            );
            s.reply(1, 8, &["您好，我是{agent}，麻烦您提供一下优惠券页面截图，我帮您核实。"]);
            s.cust(2, 20, &["截图已经发给你们了，你看一下。", "截图发了，券明明在有效期内。"]);
            s.ticket(
                &["优惠券未抵扣争议（订单{order}）"],
                Some("TD-07"),
                Severity::L3,
                &["优惠券"],
                &[("order_no", "{order}"), ("sku", "{sku}"), ("coupon", "满{threshold}减{coupon}")],
            );
            s.involve(Finance, &["@何芳 客户订单{order}的满{threshold}减{coupon}优惠券未抵扣，请查一下券核销记录。"]);
            s.note(
                4 * 60,
                2 * D,
                By::Dept(Finance),
                &["已核实：该券与店铺满减活动不可叠加，系统先用了店铺满减，券被误标为已使用。同意退还差价{coupon}元并恢复优惠券。"],
            );
            s.status(10, 60, Status::Open);
            s.stage("compensation");
            s.field("compensation", "退差价{coupon}元");
            s.reply(
                1,
                10,
                &["您好，核实是系统叠加规则导致优惠券被误核销，我们已为您退还差价{coupon}元，原路退回，1–3个工作日到账，优惠券也已恢复。"],
            );
            s.cust(30, 600, &["好的，谢谢处理。", "行，收到了。"]);
            s.solve_and_close();
        }
        Kind::Privacy => {
            s.open(
                &["投诉：App违规收集个人信息"],
                &[
                    "你们App在我没有同意的情况下读取了我的通讯录，现在每天都有陌生电话推销家电，我怀疑是你们泄露了我的信息。我要求删除我的全部个人数据，否则向网信办投诉。",
                    "注册会员的时候强制要求授权位置和通讯录，不授权就不能下单，这是违规收集个人信息吧？我要投诉。",
                ],
            );
            s.reply(
                5,
                30,
                &["您好，我是{agent}。我们非常重视您反映的情况，个人信息问题会交由法务部专门审核。请您提供一下注册手机号和推销来电的号码。"],
            );
            s.cust(10, 120, &["注册手机号就是现在这个，推销电话是{caller}，最近一周打了五六次。"]);
            s.ticket(
                &["客户投诉App违规收集个人信息"],
                Some("RL-09"),
                Severity::L2,
                &["个人信息", "法务审核", "投诉"],
                &[("caller", "{caller}")],
            );
            s.act(5, 30, Step::ToDept(Legal));
            s.note(
                0,
                5,
                By::Supervisor,
                &["@徐文静 按RL-09流程请法务审核：客户反映App违规读取通讯录并怀疑信息泄露，要求删除个人数据，请48小时内出具意见。"],
            );
            s.status(0, 1, Status::OnHold);
            s.stage("investigating");
            s.note(
                10,
                120,
                By::Head,
                &["已知悉，L2事件，请每天同步进展，结论出来前不要对外做任何承诺。"],
            );
            s.note(
                D,
                3 * D,
                By::Dept(Legal),
                &["法务意见：经与技术核查，App 5.2.0版本首次启动时通讯录权限说明不充分，已要求产品在下一版本移除该权限申请；日志未发现对外提供数据的记录。同意按《个人信息保护法》第四十七条为客户删除个人信息，并书面答复。"],
            );
            s.status(10, 60, Status::Open);
            s.stage("planning");
            s.reply(
                5,
                60,
                &["您好，经法务和技术核查，未发现您的信息被提供给第三方；App通讯录权限的说明确实不够充分，我们已在新版本中移除。按您的要求，您的个人信息将在15个工作日内删除，书面答复已发送至您的邮箱。"],
            );
            s.cust(60, D, &["好的，希望你们说到做到。"]);
            s.solve_and_close();
        }
        Kind::Install => {
            s.open(
                &["{product}安装预约"],
                &[
                    "你好，我买的{product}已经送到了，想预约{date}上午安装，可以吗？",
                    "{product}到货了，什么时候能上门安装？我家在{city}。",
                    "预约的安装师傅到现在还没联系我，订单{order}。",
                ],
            );
            s.ticket(
                &["{product}安装预约（{date}）"],
                Some("SP-08"),
                Severity::L3,
                &["安装"],
                &[
                    ("order_no", "{order}"),
                    ("sku", "{sku}"),
                    ("install_slot", "{date} 09:00-12:00"),
                ],
            );
            s.reply(1, 8, &["您好，我是{agent}，已为您预约{date}上午9:00–12:00安装（工单{no}），师傅上门前会提前30分钟电话联系您。"]);
            s.cust(1, 30, &["好的，谢谢。", "可以，那天上午家里有人。"]);
            s.stage("planning");
            if s.rng.chance(0.3) {
                s.cust(
                    D + 4 * 60,
                    2 * D,
                    &["师傅迟到了两个小时，而且还要收我120元辅材费，不是说免费安装吗？我要投诉！"],
                );
                s.note(
                    5,
                    60,
                    By::Agent,
                    &["@{supervisor} 客户反映安装师傅迟到并额外收取辅材费，请跟进{city}网点。"],
                );
                s.note(
                    60,
                    300,
                    By::Supervisor,
                    &["已联系网点核实，标准辅材不应收费，同意退还120元并对网点考核。"],
                );
                s.stage("compensation");
                s.field("compensation", "退还辅材费120元");
                s.reply(
                    5,
                    60,
                    &["非常抱歉，标准辅材不应收费，已为您申请退还120元，并对安装网点进行了考核。"],
                );
                s.cust(30, 600, &["好吧，钱退回来就行。"]);
            } else {
                s.reply(D + 4 * 60, 2 * D, &["师傅已完成安装，请问使用是否正常？"]);
                s.await_customer(&["装好了，挺好的。", "没问题，师傅很专业。"]);
            }
            s.solve_and_close();
        }
        Kind::Invoice => {
            s.open(
                &["订单{order}开票申请"],
                &[
                    "你好，订单{order}需要开增值税专用发票，抬头：{company}，税号：{taxid}，麻烦尽快开一下。",
                    "我下单时选了电子发票，但是一直没收到，订单{order}。",
                    "发票抬头开错了，应该是{company}，税号{taxid}，麻烦重开。",
                ],
            );
            s.ticket(
                &["订单{order}开票申请"],
                Some("TD-05"),
                Severity::L4,
                &["发票"],
                &[("order_no", "{order}"), ("invoice_title", "{company}"), ("tax_id", "{taxid}")],
            );
            s.reply(1, 10, &["您好，我是{agent}，已收到您的开票信息（工单{no}），我转给财务同事处理，一般2个工作日内完成。"]);
            s.involve(Finance, &["@何芳 订单{order}开票，抬头{company}，税号{taxid}，请处理。"]);
            s.note(4 * 60, 2 * D, By::Dept(Finance), &["发票已开具，电子版已发送至客户预留邮箱。"]);
            s.status(5, 60, Status::Open);
            s.reply(1, 10, &["您好，发票已开具并发送到您的邮箱，请查收。如有问题随时联系我们。"]);
            s.solve_and_close();
        }
        Kind::NoPower => {
            s.open(
                &["{product}无法开机"],
                &[
                    "刚收到的{product}插上电没有任何反应，指示灯也不亮。",
                    "{product}用了{months}个月，今天早上突然开不了机了。",
                ],
            );
            s.reply(1, 8, &["您好，我是{agent}，麻烦您换一个插座试试，并检查一下电源线是否插紧。"]);
            s.cust(3, 30, &["换了插座也不行，肯定是坏了。", "试过了，还是没反应。"]);
            s.ticket(
                &["{product}无法开机"],
                Some("PQ-02"),
                Severity::L3,
                &["无法开机"],
                &[("order_no", "{order}"), ("sku", "{sku}")],
            );
            if s.rng.chance(0.5) {
                s.involve(Tech, &["@郑浩 {product}（{sku}）通电无反应，已排除插座问题，请判断是电源板还是主板故障。"]);
                s.note(
                    4 * 60,
                    2 * D,
                    By::Dept(Tech),
                    &["电源板保险管熔断，属于电源板故障，安排上门更换电源板即可。"],
                );
                s.status(10, 60, Status::Open);
                s.stage("planning");
                s.reply(
                    1,
                    20,
                    &["您好，工程师判断是电源板故障，已安排工程师48小时内上门免费更换，工单号{no}。"],
                );
                s.await_customer(&["修好了，谢谢。"]);
            } else {
                s.stage("compensation");
                s.field("compensation", "7天内换新");
                s.reply(1, 10, &["收货7天内出现性能故障，可以直接为您办理换货，新机2天内发出，旧机由快递上门取回（工单{no}）。"]);
                s.cust(10, 300, &["好的，那就换新的吧。"]);
            }
            s.solve_and_close();
        }
        Kind::Cosmetic => {
            s.open(
                &["{product}外观瑕疵"],
                &[
                    "收到的{product}侧面有一道很明显的划痕，包装是好的，应该是出厂就有的。",
                    "{product}边框有磕碰，这是新机吗？",
                ],
            );
            s.reply(1, 8, &["您好，非常抱歉，麻烦您拍几张照片发给我们，我帮您申请处理。"]);
            s.cust(
                5,
                60,
                &["照片发了。我希望换一台新的。", "照片已上传。能补偿一点吗？不想换了，太麻烦。"],
            );
            s.ticket(
                &["{product}外观瑕疵"],
                Some("PQ-01"),
                Severity::L3,
                &["外观"],
                &[("order_no", "{order}"), ("sku", "{sku}")],
            );
            s.note(
                1,
                30,
                By::Agent,
                &["@冯涛 同批次{sku}本月已有多起外观划伤反馈，请质量部关注出厂检验。"],
            );
            s.stage("compensation");
            if s.said.contains("补偿") {
                s.field("compensation", "{amount}元补偿");
                s.reply(
                    1,
                    20,
                    &["已为您申请{amount}元补偿，将原路退回到您的支付账户，再次向您致歉。"],
                );
            } else {
                s.field("compensation", "换新");
                s.reply(
                    1,
                    20,
                    &["已为您办理换新，新机今天发出，旧机由快递上门取回，再次向您致歉。"],
                );
            }
            s.await_customer(&["好的。", "收到，谢谢。"]);
            s.solve_and_close();
        }
        Kind::Missing => {
            s.open(
                &["{product}缺少配件"],
                &[
                    "{product}少了配件，清单上写的{part}没有。",
                    "刚拆开{product}，发现没有{part}，麻烦补发。",
                ],
            );
            s.ticket(
                &["补发配件：{part}（{product}）"],
                Some("PQ-05"),
                Severity::L3,
                &["补发"],
                &[("order_no", "{order}"), ("sku", "{sku}"), ("courier_no", "{courier}")],
            );
            s.reply(1, 10, &["您好，非常抱歉给您带来不便，我马上安排补发{part}，顺丰发出，1–2天送到（工单{no}）。"]);
            s.reply(60, 300, &["补发的{part}已寄出，快递单号{courier}。"]);
            s.await_customer(&["收到了。", "配件收到了，谢谢。"]);
            s.solve_and_close();
        }
        Kind::Attitude => {
            s.open(
                &["服务态度投诉"],
                &[
                    "昨天打你们客服电话，那个客服态度特别差，我话还没说完就把电话挂了，我要投诉！",
                    "你们客服太不专业了，问了三遍都答非所问，还让我自己去看说明书，我要投诉。",
                ],
            );
            s.reply(5, 30, &["您好，我是客服主管{agent}，非常抱歉给您带来不好的体验，我会调取录音核实，今天内给您答复。"]);
            s.ticket(&["服务态度投诉"], Some("SP-01"), Severity::L3, &["投诉", "服务态度"], &[]);
            s.note(60, 300, By::Agent, &["已调取通话录音，确认坐席服务用语不规范并提前挂断，已安排一对一辅导并纳入本月质检扣分。"]);
            s.stage("compensation");
            s.field("compensation", "{amount}元优惠券");
            s.reply(
                5,
                60,
                &["您好，经核实确实是我们的服务不到位，再次向您道歉。我们已对相关客服进行了处理，同时为您补偿{amount}元优惠券。您原来咨询的问题我也帮您处理好了。"],
            );
            s.cust(30, 600, &["好吧，希望以后注意。"]);
            s.note(
                10,
                60,
                By::Head,
                &["本月服务态度投诉已{over}起，@孙丽 @马强 下周例会做专项复盘。"],
            );
            s.solve_and_close();
        }
        Kind::PriceProtect => {
            s.open(&["价保申请"], &["我{days}天前买的{product}，今天降价了{diff}元，你们不是承诺30天价保吗？订单{order}。"]);
            s.reply(1, 8, &["您好，我是{agent}，我帮您核实一下价保规则和订单信息。"]);
            s.ticket(
                &["价保申请：{product}降价{diff}元"],
                Some("TD-03"),
                Severity::L3,
                &["价保"],
                &[("order_no", "{order}"), ("sku", "{sku}")],
            );
            s.involve(Finance, &["@何芳 订单{order}符合30天价保条件，申请退差价{diff}元。"]);
            s.note(4 * 60, 2 * D, By::Dept(Finance), &["已审核，差价{diff}元已原路退回。"]);
            s.status(5, 60, Status::Open);
            s.stage("compensation");
            s.field("compensation", "价保退差{diff}元");
            s.reply(1, 10, &["您好，差价{diff}元已原路退回，1–3个工作日到账，感谢您的耐心。"]);
            s.solve_and_close();
        }
        Kind::Battery => {
            let batch = p.sku == "HT-RV-2001";
            s.open(
                &["{product}电池问题"],
                if batch {
                    &[
                        "扫地机器人X20用了不到两个月，续航从两个小时掉到二十分钟，充电座上一直显示充电异常。",
                        "X20扫地机器人充满电跑一会儿就没电了，而且电池那块发烫，正常吗？",
                    ]
                } else {
                    &["{product}充满电只能用不到一个小时，刚买的时候能用5个小时。", "{product}电池好像鼓包了，外壳都顶开了一条缝，还能用吗？"]
                },
            );
            s.reply(1, 8, &["您好，我是{agent}。请您先停止充电和使用，放在通风处。麻烦提供一下序列号，我们安排检测。"]);
            s.cust(5, 60, &["序列号SN{serial}。"]);
            if batch {
                s.ticket(
                    &["扫地机器人X20电池续航骤降"],
                    Some("PQ-04"),
                    Severity::L2,
                    &["电池", "批次问题"],
                    &[
                        ("order_no", "{order}"),
                        ("sku", "{sku}"),
                        ("serial_no", "SN{serial}"),
                        ("batch", "2026W36"),
                    ],
                );
                s.act(5, 40, Step::ToDept(Quality));
                s.note(
                    0,
                    5,
                    By::Agent,
                    &["@冯涛 近几天已收到多起X20电池续航骤降、充电异常的报修，疑似同一批次电芯问题，请质量部评估是否启动批量处理。"],
                );
                s.status(0, 1, Status::OnHold);
                s.stage("investigating");
                s.note(
                    D,
                    3 * D,
                    By::Dept(Quality),
                    &["已锁定批次2026W36电芯来料问题，启动主动换新方案：该批次用户免费更换新电池，工程师上门。"],
                );
                s.status(10, 60, Status::Open);
                s.stage("compensation");
                s.field("compensation", "免费更换电池");
                s.reply(1, 20, &["您好，经质量部确认是该批次电池问题，我们将为您免费更换新电池，工程师会提前联系您上门（工单{no}）。"]);
                s.await_customer(&["换完电池正常了。", "师傅来换过了，续航恢复了。"]);
            } else {
                s.ticket(
                    &["{product}电池续航异常"],
                    Some("PQ-04"),
                    Severity::L3,
                    &["电池"],
                    &[("order_no", "{order}"), ("sku", "{sku}"), ("serial_no", "SN{serial}")],
                );
                s.stage("compensation");
                s.field("compensation", "保内换新");
                s.reply(1, 20, &["电池属于保修范围，已为您办理换新（工单{no}），快递会上门取件。"]);
                s.await_customer(&["新的收到了，谢谢。"]);
            }
            s.solve_and_close();
        }
        Kind::Suggestion => {
            s.open(
                &["用户建议"],
                &[
                    "建议App里能实时看到安装师傅的位置，现在只知道上午来，等得很焦虑。",
                    "希望以后下单能选择具体的送货时间段，上班族白天不在家。",
                    "说明书字太小了，老人看不清，能不能出个视频教程？",
                ],
            );
            s.reply(1, 30, &["感谢您的建议，我已经记录并反馈给产品团队，我们会认真评估。"]);
            s.ticket(&["用户建议：体验改进"], None, Severity::L4, &["建议"], &[]);
            s.note(5, 120, By::Agent, &["已汇总至本月用户建议月报，抄送产品团队。"]);
            s.solve_and_close();
        }
        Kind::FalseAd => {
            s.open(
                &["投诉：能效标识与宣传不符"],
                &["你们详情页写的{product}是一级能效，我收到货看铭牌是三级能效，这是虚假宣传！要求退一赔三。"],
            );
            s.reply(
                5,
                30,
                &["您好，我是{agent}，非常重视您的反馈，麻烦您拍一下机身铭牌，我们马上核实。"],
            );
            s.cust(10, 120, &["铭牌照片已经发了，你们自己看。"]);
            s.ticket(
                &["客户反映{product}能效标识与宣传不符"],
                Some("RL-01"),
                Severity::L2,
                &["虚假宣传", "法务审核"],
                &[("order_no", "{order}"), ("sku", "{sku}")],
            );
            s.act(5, 30, Step::ToDept(Legal));
            s.note(
                0,
                5,
                By::Supervisor,
                &["@徐文静 客户反映详情页能效等级与实物不符，要求退一赔三，请法务评估。"],
            );
            s.status(0, 1, Status::OnHold);
            s.stage("investigating");
            s.note(
                6 * 60,
                D,
                By::Dept(Legal),
                &["经核对，详情页能效信息为旧版本未及时更新，确属宣传错误。建议按《消费者权益保护法》第五十五条协商赔偿，已通知运营下架错误页面。"],
            );
            s.status(10, 60, Status::Open);
            s.stage("compensation");
            s.field("compensation", "退货退款并三倍赔偿");
            s.reply(5, 60, &["您好，经核实是我们详情页信息未及时更新，非常抱歉。我们同意为您办理退货退款，并按货款三倍赔偿。"]);
            s.cust(60, D, &["同意，尽快处理。"]);
            s.solve_and_close();
        }
        Kind::Safety => {
            let heater = p.sku == "HT-EH-6002";
            s.open(
                &["安全事件"],
                if heater {
                    &["我家去年买的电热水器，今天洗澡的时候手碰到水龙头被电了一下，麻麻的，太吓人了！家里还有老人小孩！"]
                } else {
                    &["电暖器开了一晚上，早上起来发现插头那里烧焦了，还冒烟，差点着火！"]
                },
            );
            s.reply(1, 5, &["您好，请您立即断开电源、暂停使用，注意安全！我是客服主管{agent}，我们马上安排专人处理。"]);
            s.ticket(
                if heater {
                    &["【L1】{product}疑似漏电安全事件"]
                } else {
                    &["【L1】{product}插头烧焦冒烟安全事件"]
                },
                Some("PQ"),
                Severity::L1,
                &["安全事故", "l1"],
                &[("sku", "{sku}"), ("order_no", "{order}")],
            );
            s.note(
                1,
                10,
                By::Head,
                &["L1事件，已成立专项小组：@冯涛（质量）@郑浩（技术）@徐文静（法务），30分钟内响应，每2小时向我同步一次进展。"],
            );
            s.stage("investigating");
            s.note(
                5,
                25,
                By::Dept(Quality),
                &["已安排工程师2小时内上门断电检测，同时调取同批次{sku}的出厂检测记录。"],
            );
            s.note(
                120,
                240,
                By::Dept(Quality),
                if heater {
                    &["上门检测结果：墙面插座未接地线，热水器防电墙在长期使用后失效，两者叠加导致出水带电。已现场断电，建议换新机并规范接地。"]
                } else {
                    &["上门检测结果：插头内部端子压接不良导致接触电阻过大、局部过热。同批次已发现2例，质量部启动该批次召回评估。"]
                },
            );
            s.stage("planning");
            s.reply(
                10,
                60,
                &["您好，检测结果已出，我们将为您免费更换新机并上门规范安装，另外给予500元慰问金，再次向您和家人致歉。"],
            );
            s.note(30, 180, By::Head, &["@徐文静 已线下审阅处理方案并同意。请保留检测报告和现场照片存档，本周内完成同批次排查报告。"]);
            s.stage("compensation");
            s.field("compensation", "免费换新+500元慰问金");
            s.cust(60, 600, &["好的，谢谢你们这么快处理。"]);
            s.solve_and_close();
        }
        Kind::EnDelivery => {
            s.open(
                &["Where is my order {order}?"],
                &[
                    "Hi, my order {order} was supposed to arrive last Friday but the tracking hasn't updated for {days} days. Can you check?",
                    "Hello, I ordered a {product_en} a week ago and it still hasn't arrived. Order number {order}.",
                ],
            );
            s.reply(1, 15, &["Hi {first}, this is {agent} from the English Desk. Sorry for the wait — let me check order {order} with our logistics team."]);
            s.ticket(
                &["Delivery delay for order {order}"],
                Some("SP-05"),
                Severity::L3,
                &["english", "物流延误"],
                &[("order_no", "{order}"), ("sku", "{sku}"), ("courier_no", "{courier}")],
            );
            s.involve(
                Logistics,
                &["@韩冬 英文客户订单{order}物流{days}天未更新（快递单号{courier}），麻烦核实。"],
            );
            s.note(3 * 60, D, By::Dept(Logistics), &["包裹在转运中心滞留，已加急，预计明天送达。"]);
            s.status(10, 60, Status::Open);
            s.reply(
                1,
                15,
                &["Good news: your parcel was held at a sorting centre and has now been expedited. It should arrive tomorrow. We've added a ¥{amount} coupon to your account for the trouble."],
            );
            s.field("compensation", "{amount}元无门槛券");
            s.await_customer(&["Got it, thanks!", "It arrived this morning. Thanks for the help."]);
            s.solve_and_close();
        }
        Kind::EnRefund => {
            s.open(
                &["Refund not received"],
                &["I returned the {product_en} two weeks ago and still haven't received my refund of ¥{price}. Order {order}. This is really frustrating."],
            );
            s.reply(2, 20, &["Hi {first}, I'm sorry about this. I've escalated it to our finance team and will update you within 24 hours."]);
            s.ticket(
                &["Refund not received for order {order}"],
                Some("TD-01"),
                Severity::L3,
                &["english", "退款"],
                &[("order_no", "{order}"), ("refund_amount", "{price}")],
            );
            s.involve(Finance, &["@何芳 英文客户退款{price}元未到账，订单{order}，请核实。"]);
            s.note(4 * 60, 2 * D, By::Dept(Finance), &["已重新发起原路退款，预计2个工作日到账。"]);
            s.status(10, 60, Status::Open);
            s.reply(1, 15, &["The refund of ¥{price} has been re-issued to your original payment method and should arrive within 2 business days."]);
            s.await_customer(&["Received it today, thank you."]);
            s.solve_and_close();
        }
        Kind::EnInvoice => {
            s.open(&["Fapiao request for order {order}"], &["Could you issue a fapiao for order {order}? Company name: {company_en}, tax ID {taxid}."]);
            s.ticket(
                &["Fapiao request for order {order}"],
                Some("TD-05"),
                Severity::L4,
                &["english", "发票"],
                &[
                    ("order_no", "{order}"),
                    ("invoice_title", "{company_en}"),
                    ("tax_id", "{taxid}"),
                ],
            );
            s.reply(1, 15, &["Sure, I've forwarded your request to our finance team. You'll receive the e-fapiao by email within 2 business days."]);
            s.involve(
                Finance,
                &["@何芳 英文客户开专票，抬头{company_en}，税号{taxid}，订单{order}。"],
            );
            s.note(4 * 60, 2 * D, By::Dept(Finance), &["发票已开具并发送至客户邮箱。"]);
            s.status(5, 60, Status::Open);
            s.reply(1, 15, &["Your fapiao has been issued and emailed to you. Let us know if anything needs correcting."]);
            s.solve_and_close();
        }
        Kind::Presale => {
            s.open(
                &["咨询：{product}"],
                &[
                    "{product}有现货吗？今天下单什么时候能到{city}？",
                    "请问{product}和上一代有什么区别？",
                    "{product}现在有什么优惠活动吗？",
                    "在吗？想问下{product}多少钱",
                ],
            );
            s.reply(
                1,
                6,
                &[
                    "您好，我是{agent}，{product}目前有现货，今天16点前下单当天发出，{city}一般1–2天送达。",
                    "您好，新款能效更高、噪音更低，还支持App远程控制，到手价{price}元。",
                    "您好，{product}目前参加满{threshold}减{coupon}活动，会员还可以叠加95折。",
                ],
            );
            s.cust(1, 15, &["好的，谢谢，我考虑一下。", "那我现在下单。", "明白了，谢谢。"]);
            s.act(2, 30, Step::Resolve);
        }
        Kind::Specs => {
            s.open(
                &["咨询：{product}参数"],
                &[
                    "{product}的功率是多少？我家老房子电路能带得动吗？",
                    "{product}噪音大吗？放卧室会不会吵？",
                    "{product}能连小爱同学或者天猫精灵吗？",
                ],
            );
            s.reply(
                1,
                8,
                &[
                    "您好，我是{agent}。{product}的额定功率在详情页“规格参数”里有标注，一般家庭电路完全可以满足；如果是十年以上的老线路，建议请电工检查一下。",
                    "您好，{product}运行噪音约22–38分贝，放卧室没有问题，睡眠模式下更安静。",
                    "您好，支持的，在慧听电器App里绑定后就可以语音控制。",
                ],
            );
            s.cust(1, 15, &["好的，明白了。", "谢谢，挺清楚的。"]);
            s.act(2, 30, Step::Resolve);
        }
        Kind::TradeIn => {
            s.open(
                &["咨询：以旧换新"],
                &["旧家电可以以旧换新吗？我想换一台{product}，旧的怎么估价？"],
            );
            s.reply(1, 8, &["您好，我是{agent}，可以的。下单时选择“以旧换新”，师傅送新机时上门回收旧机，最高可抵扣500元。"]);
            s.cust(1, 15, &["旧的是用了八年的，能抵多少？", "好的，了解了。"]);
            s.reply(1, 8, &["具体金额以师傅上门评估为准，一般八年左右的机器可以抵扣100–300元。"]);
            s.act(2, 30, Step::Resolve);
        }
        Kind::Warranty => {
            s.open(
                &["咨询：保修期"],
                &[
                    "{product}保修多久？我买了{months}个月了。",
                    "我的{product}还在保修期吗？订单号{order}。",
                ],
            );
            s.reply(1, 8, &["您好，我是{agent}。{product}整机保修3年，核心部件保修更久，您的机器还在保修期内，凭订单号即可报修。"]);
            s.cust(1, 15, &["好的，谢谢。"]);
            s.act(2, 30, Step::Resolve);
        }
        Kind::Points => {
            s.open(
                &["咨询：会员积分"],
                &["我的会员积分怎么用？是不是快过期了？", "积分可以抵现金吗？"],
            );
            s.reply(1, 8, &["您好，我是{agent}。可用积分在“我的-会员中心”查看，100积分抵1元，每年12月31日清零上一年度的积分。"]);
            s.cust(1, 15, &["知道了，谢谢。"]);
            s.act(2, 30, Step::Resolve);
        }
        Kind::Address => {
            s.open(
                &["修改收货地址"],
                &["订单{order}还没发货，能帮我改一下收货地址吗？改到{city}的公司地址。"],
            );
            s.reply(1, 8, &["您好，我是{agent}，已为您修改收货地址，请在订单详情里确认一下。"]);
            s.cust(1, 15, &["看到了，谢谢！"]);
            s.act(2, 30, Step::Resolve);
        }
        Kind::EInvoice => {
            s.open(
                &["咨询：电子发票下载"],
                &["电子发票在哪里下载？", "订单{order}的发票怎么打印？"],
            );
            s.reply(1, 8, &["您好，我是{agent}。在“我的订单-订单详情-查看发票”里可以下载PDF版电子发票，直接打印即可。"]);
            s.cust(1, 15, &["找到了，谢谢。"]);
            s.act(2, 30, Step::Resolve);
        }
        Kind::EnInquiry => {
            s.open(
                &["Product question"],
                &[
                    "Do you deliver to Hong Kong?",
                    "Does the {product_en} come with an English manual?",
                    "Is the {product_en} compatible with 110 V?",
                ],
            );
            s.reply(
                1,
                15,
                &[
                    "Hi {first}, this is {agent}. We currently deliver within mainland China only; for Hong Kong, please use a forwarding service.",
                    "Hi {first}, yes — an English manual can be downloaded from the product page, and the app supports English too.",
                    "Hi {first}, the {product_en} is designed for 220 V / 50 Hz; please use a step-up transformer for 110 V.",
                ],
            );
            s.cust(1, 15, &["Thanks!", "Great, thank you."]);
            s.act(2, 30, Step::Resolve);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Replay

#[derive(Default)]
struct CaseState {
    conversation: Option<ConversationId>,
    visitor: Option<Visitor>,
    /// The conversation is still with the bot (opened from the widget).
    bot: bool,
    ticket: Option<(TicketId, String)>,
    fields: Vec<(String, String)>,
}

async fn replay(
    app: &App,
    clock: &ManualClock,
    org: &Org,
    cases: &[Case],
    end: i64,
    progress: &dyn Fn(&str, u64, u64),
) -> anyhow::Result<()> {
    let mut order: Vec<(i64, usize, usize)> = Vec::new();
    for (c, case) in cases.iter().enumerate() {
        for (s, (t, _)) in case.steps.iter().enumerate() {
            if *t < end {
                order.push((*t, c, s));
            }
        }
    }
    order.sort_unstable();
    let mut states: Vec<CaseState> = cases.iter().map(|_| CaseState::default()).collect();
    let total = order.len() as u64;
    // Survey answers due: (when, ticket, case index). Customers answer some surveys, some
    // hours after the link arrives; the rest are reminded and expire (FB-1).
    let mut answers: Vec<(i64, TicketId, usize)> = Vec::new();
    let mut rng = Rng(0x5355_5256_4559_2026);
    let mut erp_hook = false;
    for (n, &(t, c, s)) in order.iter().enumerate() {
        if !erp_hook && t >= end - ERP_HOOK_BEFORE_END {
            erp_hook = true;
            clock.set(Timestamp::from_millis(t));
            seed_erp_webhook(app, org).await?;
        }
        answers.sort_unstable_by_key(|a| std::cmp::Reverse(a.0));
        while answers.last().is_some_and(|a| a.0 <= t) {
            let Some((at, tk, ac)) = answers.pop() else { break };
            clock.set(Timestamp::from_millis(at));
            run_due_jobs(app, at).await?;
            answer_survey(app, org, &cases[ac], tk, &mut rng).await?;
        }
        clock.set(Timestamp::from_millis(t));
        // Background work happens as it would have: surveys sent, messages classified.
        run_due_jobs(app, t).await?;
        let case = &cases[c];
        run_step(app, org, case, &mut states[c], &case.steps[s].1)
            .await
            .with_context(|| format!("demo case {c}, step {s}"))?;
        if matches!(case.steps[s].1, Step::Status(Status::Solved))
            && let Some((tk, _)) = &states[c].ticket
            && rng.chance(0.55)
        {
            answers.push((t + 5 * MIN + rng.range(10 * MIN, 20 * HOUR), *tk, c));
        }
        progress("history", n as u64 + 1, total);
    }
    clock.set(Timestamp::from_millis(end));
    run_due_jobs(app, end).await?;
    seed_feedback(app, org, &mut rng, end).await?;
    Ok(())
}

/// How long before "now" the ERP's webhook was subscribed (see [`seed_erp_webhook`]).
/// Three days, so that whatever the time of day and week the demo is seeded at, the window
/// holds a working day of new tickets whose ten attempts ran out while the history advanced
/// (three hours held only two tickets when seeded at 22:00 Beijing time, none failed yet).
const ERP_HOOK_BEFORE_END: i64 = 3 * DAY;

/// The ERP team subscribed an event webhook to new tickets three days ago, at an address where
/// nothing listens yet (loopback port 9, allowed by name): its delivery log shows the
/// deliveries whose ten attempts ran out (`failed`, with 重试 / Retry) and the newer ones still
/// retrying on the queue's backoff.
async fn seed_erp_webhook(app: &App, org: &Org) -> anyhow::Result<()> {
    let admin =
        app::auth::Admin::from_principal(org.principals[0].clone()).context("the demo admin")?;
    app.create_webhook(
        &admin,
        app::channels::webhooks::NewWebhook {
            url: "http://127.0.0.1:9/erp/huiting-tickets".into(),
            events: vec!["ticket.created".into()],
            allow_hosts: vec!["127.0.0.1".into()],
        },
    )
    .await
    .context("subscribing the demo ERP's webhook")?;
    Ok(())
}

/// Runs every job due at `t` (surveys, reminders, classification, deadlines).
async fn run_due_jobs(app: &App, t: i64) -> anyhow::Result<()> {
    while let app::jobs::Outcome::Ran(_) =
        app.run_jobs_once("demo", Timestamp::from_millis(t)).await?
    {}
    Ok(())
}

/// The customer follows the survey link on their ticket and answers: a spread of scores,
/// lower where the case was a complaint.
async fn answer_survey(
    app: &App,
    org: &Org,
    case: &Case,
    tk: TicketId,
    rng: &mut Rng,
) -> anyhow::Result<()> {
    let staff = org.staff(case.agent)?;
    let msgs = app.ticket_messages(&staff, tk, None, 500).await?;
    let Some(token) = msgs.iter().rev().find_map(|m| {
        let i = m.body.find("/survey/")?;
        m.body[i + 8..].split_whitespace().next().map(str::to_string)
    }) else {
        return Ok(());
    };
    let Ok(form) = app.public_survey(&token).await else { return Ok(()) };
    let complaint = msgs.iter().any(|m| {
        m.sender == domain::SenderKind::Customer
            && ["投诉", "太差", "坏了", "退款", "赔偿", "complain", "refund", "broken"]
                .iter()
                .any(|w| m.body.contains(w))
    });
    let happy = if complaint { rng.chance(0.45) } else { rng.chance(0.85) };
    let scores = form
        .kinds
        .iter()
        .map(|k| {
            let (lo, hi) = k.range();
            let v = if happy { hi - rng.range(0, 2) } else { lo + rng.range(0, (hi - lo) / 2 + 1) };
            (*k, v.clamp(lo, hi))
        })
        .collect();
    let comments = if happy {
        ["处理很及时，谢谢！", "客服态度很好", "满意", "Quick and helpful, thanks."]
    } else {
        ["等了太久才解决", "问题反复出现，不满意", "希望下次能一次解决", "Took far too long."]
    };
    let comment = rng.chance(0.5).then(|| comments[rng.below(4) as usize].to_string());
    app.answer_survey(&token, app::feedback::SurveyAnswer { scores, comment, answers: Vec::new() })
        .await?;
    Ok(())
}

/// Imported e-commerce reviews and feedback from the web form, over the past month (FB-2,
/// IN-5): a spread of ratings and products, complaints among them.
async fn seed_feedback(app: &App, org: &Org, rng: &mut Rng, end: i64) -> anyhow::Result<()> {
    const REVIEWS: &[(i64, &str)] = &[
        (5, "物流很快，安装师傅很专业，好评"),
        (5, "电视画质清晰，客服回复也及时"),
        (4, "整体不错，就是包装有点破损"),
        (4, "性价比高，推荐购买"),
        (3, "一般般，遥控器反应有点慢"),
        (2, "冰箱不制冷，售后处理太慢了"),
        (1, "空调用了一周就坏了，要求退款，客服一直推脱"),
        (1, "收到的洗衣机外壳有划痕，太差了"),
        (2, "快递延误了五天，也没人通知"),
        (5, "Great TV, fast delivery."),
        (2, "The fridge arrived dented and support was slow."),
        (3, "建议增加夜间客服，晚上没人回复"),
    ];
    const SKUS: &[&str] = &["TV-55Q", "TV-65Q", "FR-520", "WM-100", "AC-35", "AC-26"];
    let mut csv = String::from("platform,id,rating,text,time,order_no,sku\n");
    for i in 0..120 {
        let (rating, text) = REVIEWS[rng.below(REVIEWS.len() as u64) as usize];
        let platform = ["tmall", "jd", "pdd"][rng.below(3) as usize];
        let at = end - rng.range(HOUR, 30 * DAY);
        csv.push_str(&format!(
            "{platform},{platform}-{i},{rating},\"{text}\",{},{},{}\n",
            at / 1000,
            order_no(rng, at),
            SKUS[rng.below(SKUS.len() as u64) as usize]
        ));
    }
    let agent = org.agent(0)?;
    app.import_reviews(&agent, csv.as_bytes(), false).await?;
    for text in [
        "建议 App 里可以直接预约上门安装时间",
        "上次的维修师傅很专业，点赞",
        "热水器漏水，打了三次电话都没人处理，非常不满意",
        "希望可以增加以旧换新的活动",
    ] {
        app.submit_feedback(
            &agent,
            app::feedback::NewFeedback { body: text.into(), ..Default::default() },
        )
        .await?;
    }
    Ok(())
}

fn message(body: String) -> NewMessage {
    NewMessage { body, ..NewMessage::default() }
}

async fn run_step(
    app: &App,
    org: &Org,
    case: &Case,
    st: &mut CaseState,
    step: &Step,
) -> anyhow::Result<()> {
    let ws = org.ws.id;
    let agent = org.agent(case.agent)?;
    let agent_id = org.users[case.agent].id;
    let with_no = |text: &str, st: &CaseState| match &st.ticket {
        Some((_, no)) => text.replace("{no}", no),
        None => text.replace("（工单{no}）", "").replace("工单{no}", "工单").replace("{no}", ""),
    };
    match step {
        Step::Open { subject, body } => {
            if matches!(case.channel, Channel::WebChat | Channel::App) {
                let returning =
                    case.customer.map(|i| Visitor::verified_elsewhere(ws, org.customers[i]));
                let hello = Hello {
                    channel: Some(case.channel),
                    ..case.visitor.clone().unwrap_or_default()
                };
                let chat = app
                    .open_chat(&org.ws.public_key, returning, hello, Some(message(body.clone())))
                    .await?;
                st.conversation = Some(chat.conversation.id);
                st.visitor = Some(chat.visitor);
                st.bot = true;
            } else {
                let customer = org.customers
                    [case.customer.context("a staff-opened conversation needs a customer")?];
                let n = NewConversation {
                    customer,
                    channel: case.channel,
                    subject: subject.clone(),
                    body: None,
                };
                let (conv, _) = app.create_conversation(&agent, n).await?;
                let visitor = Visitor::verified_elsewhere(ws, customer);
                // The customer's inbound message, as a channel connector would store it.
                app.post_visitor_message(&visitor, conv.id, message(body.clone())).await?;
                st.conversation = Some(conv.id);
                st.visitor = Some(visitor);
            }
        }
        Step::Customer(body) => {
            let (v, conv) =
                (st.visitor.context("no visitor")?, st.conversation.context("no conversation")?);
            app.post_visitor_message(&v, conv, message(body.clone())).await?;
        }
        Step::Reply(body) => {
            hand_off(app, org, case, st, &agent).await?;
            let m = message(with_no(body, st));
            match &st.ticket {
                Some((id, _)) => app.reply_to_ticket(&agent, *id, m).await?,
                None => {
                    app.post_staff_message(
                        &org.noter(case.agent)?,
                        st.conversation.context("no conversation")?,
                        m,
                    )
                    .await?
                }
            };
        }
        Step::Note(by, body) => {
            let who = match by {
                By::Agent => case.agent,
                By::Supervisor => case.supervisor,
                By::Head => HEAD,
                By::Dept(d) => dept_user(*d),
            };
            let noter = org.noter(who)?;
            let body = with_no(body, st);
            match &st.ticket {
                Some((id, _)) => app.note_on_ticket(&noter, *id, message(body)).await?,
                None => {
                    let m = NewMessage { visibility: Some(Visibility::Internal), ..message(body) };
                    app.post_staff_message(&noter, st.conversation.context("no conversation")?, m)
                        .await?
                }
            };
        }
        Step::Ticket(spec) => {
            hand_off(app, org, case, st, &agent).await?;
            // Mail and web forms land in the team queue, triaged by a supervisor.
            let creator = if case.queued { org.agent(case.supervisor)? } else { agent.clone() };
            let customer = match (case.customer, &st.visitor) {
                (Some(i), _) => org.customers[i],
                (None, Some(v)) => v.customer(),
                (None, None) => anyhow::bail!("a ticket needs a customer"),
            };
            let t = app
                .create_ticket(
                    &creator,
                    NewTicket {
                        subject: spec.subject.clone(),
                        customer,
                        conversation: st.conversation,
                        channel: case.channel,
                        description: None,
                        attachments: Vec::new(),
                        problem_code: spec.code.map(ProblemCode::parse).transpose()?,
                        severity: Some(spec.severity),
                        urgency: Some(spec.urgency),
                        assignee: (!case.queued).then_some(agent_id),
                        team: Some(org.teams[case.team]),
                        tags: spec.tags.clone(),
                        custom_fields: spec.fields.clone(),
                    },
                )
                .await?;
            st.fields = t.custom_fields.clone();
            st.ticket = Some((t.id, t.number.to_string()));
        }
        Step::PickUp => {
            app.assign_ticket(&agent, ticket_id(st)?, Some(agent_id), None).await?;
        }
        Step::ToDept(d) => {
            let id = ticket_id(st)?;
            // The agent keeps the case; the department team works on it alongside (TK-6).
            app.assign_ticket(&agent, id, Some(agent_id), Some(Some(org.teams[dept_team(*d)])))
                .await?;
        }
        Step::Stage(key) => {
            let id = ticket_id(st)?;
            app.update_ticket(
                &agent,
                id,
                TicketPatch { stage: Some(Some(key.to_string())), ..TicketPatch::default() },
            )
            .await?;
        }
        Step::Status(to) => {
            let id = ticket_id(st)?;
            // Customer messages move statuses on their own (pending → open, solved → reopen).
            let now = app.get_ticket(&org.staff(case.agent)?, id).await?;
            if now.status.can_become(*to) {
                app.set_ticket_status(&agent, id, *to).await?;
            }
        }
        Step::Field(key, value) => {
            let id = ticket_id(st)?;
            st.fields.retain(|(k, _)| k != key);
            st.fields.push((key.to_string(), value.clone()));
            app.update_ticket(
                &agent,
                id,
                TicketPatch { custom_fields: Some(st.fields.clone()), ..TicketPatch::default() },
            )
            .await?;
        }
        Step::Resolve => {
            let p = ConversationPatch {
                status: Some(ConversationStatus::Resolved),
                handler: Some(Handler::Human),
                assignee: Some(Some(agent_id)),
                team: None,
            };
            app.update_conversation(&agent, st.conversation.context("no conversation")?, p).await?;
            st.bot = false;
        }
    }
    Ok(())
}

fn ticket_id(st: &CaseState) -> anyhow::Result<TicketId> {
    st.ticket.as_ref().map(|(id, _)| *id).context("the case has no ticket yet")
}

/// A widget conversation passes from the bot to the case's agent and team before staff answer.
async fn hand_off(
    app: &App,
    org: &Org,
    case: &Case,
    st: &mut CaseState,
    agent: &Agent,
) -> anyhow::Result<()> {
    if !st.bot {
        return Ok(());
    }
    let p = ConversationPatch {
        status: None,
        handler: Some(Handler::Human),
        assignee: Some(Some(org.users[case.agent].id)),
        team: Some(Some(org.teams[case.team])),
    };
    app.update_conversation(agent, st.conversation.context("no conversation")?, p).await?;
    st.bot = false;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Time and randomness

fn local_hour(t: i64) -> i64 {
    (t + TZ).rem_euclid(DAY) / HOUR
}

fn local_midnight(t: i64) -> i64 {
    t - (t + TZ).rem_euclid(DAY)
}

/// The local calendar date of `t` (days-to-civil, after Howard Hinnant).
fn ymd(t: i64) -> (i64, i64, i64) {
    let z = (t + TZ).div_euclid(DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// SplitMix64: small, seedable, and the same demo on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as u64) as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            xs.swap(i, self.below(i as u64 + 1) as usize);
        }
    }
    fn token(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        (0..n).map(|_| *self.pick(ALPHABET) as char).collect()
    }
}
