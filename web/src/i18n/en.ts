// English; the same keys as zh-CN.ts (the type below makes a missing key a type error).
import type zh from './zh-CN'

type Shape<T> = { [K in keyof T]: T[K] extends string ? string : Shape<T[K]> }

const en: Shape<typeof zh> = {
  app: { name: 'Huiting', title: 'Huiting agent workspace' },
  lang: { label: 'Language', zh: '中文', en: 'English' },
  common: {
    save: 'Save', cancel: 'Cancel', create: 'Create', refresh: 'Refresh', loading: 'Loading…', empty: 'Nothing here',
    none: 'None', all: 'All', yes: 'Yes', no: 'No', actions: 'Actions', saved: 'Saved', error: 'Something went wrong',
    copy: 'Copy', copied: 'Copied', back: 'Back', more: 'Load more', search: 'Search', name: 'Name',
    live: 'Live', offline: 'Connection lost, reconnecting…', edit: 'Edit', updated: 'Updated', deleted: 'Deleted', confirmDelete: 'Delete this?',
  },
  nav: { approvals: 'Approvals', collaborations: 'Collaboration', routing: 'Routing', sla: 'SLA', triggers: 'Triggers', kb: 'Knowledge base', bot: 'Bot', inbox: 'Workspace', admin: 'Admin', users: 'Users', teams: 'Teams', problemCodes: 'Problem codes', tokens: 'API tokens', audit: 'Audit log', logout: 'Log out' },
  login: {
    title: 'Sign in to Huiting', workspace: 'Workspace', email: 'Email', password: 'Password', submit: 'Sign in',
    failed: 'Sign-in failed: {msg}', hint: 'Demo accounts (password huiting-demo-2026 for all):',
  },
  inbox: {
    conversations: 'Conversations', tickets: 'Tickets', status: 'Status', channel: 'Channel', handler: 'Handler',
    mine: 'Mine only', unassigned: 'Unassigned', searchTickets: 'Search ticket subjects', severity: 'Severity',
    pick: 'Pick a conversation or a ticket on the left', newMessage: 'New message', sortUpdated: 'Recently updated', sortCreated: 'Newest', sortBreach: 'Breaching soonest',
  },
  conv: {
    transcript: 'Transcript', reply: 'Reply to customer', note: 'Internal note', send: 'Send', addNote: 'Add note',
    replyPlaceholder: 'Type a reply; Ctrl+Enter sends', notePlaceholder: 'An internal note only your team sees',
    internal: 'Internal note', customer: 'Customer', bot: 'Bot', agent: 'Agent', system: 'System',
    resolve: 'Mark resolved', reopen: 'Reopen', tickets: 'Tickets', othersTyping: '{who} is replying to this customer…',
  },
  customer: { panel: 'Customer', tier: 'Tier', identities: 'Identities', pastTickets: 'Past tickets', since: 'Since', noTickets: 'No tickets' },
  ticket: {
    number: 'Number', subject: 'Subject', status: 'Status', stage: 'Stage', severity: 'Severity', urgency: 'Urgency',
    problemCode: 'Problem code', assignee: 'Assignee', team: 'Team', tags: 'Tags', created: 'Created', updated: 'Updated',
    fields: 'Ticket fields', history: 'History', changeStatus: 'Change status', trackingLink: 'Customer tracking link',
    conversation: 'Open conversation', reply: 'Reply', messages: 'Messages', fieldsTab: 'Fields', custom: 'Custom fields', fieldName: 'Field', fieldValue: 'Value', addField: 'Add field',
  },
  status: {
    new: 'New', open: 'Open', pending: 'Pending customer', on_hold: 'On hold', solved: 'Solved', closed: 'Closed', reopen: 'Reopened',
    resolved: 'Resolved',
  },
  urgency: { normal: 'Normal', urgent: 'Urgent', critical: 'Critical' },
  severityLabel: { L1: 'L1 emergency', L2: 'L2 important', L3: 'L3 ordinary', L4: 'L4 suggestion/inquiry' },
  channel: { web_chat: 'Web chat', app: 'App', email: 'Email', phone: 'Phone', social: 'Social', sms: 'SMS', web_form: 'Web form', api: 'API' },
  handler: { bot: 'Bot', human: 'Human' },
  tier: { ordinary: 'Ordinary', vip: 'VIP' },
  role: { admin: 'Admin', cs_head: 'CS head', supervisor: 'Supervisor', agent: 'Agent', dept_member: 'Department member', auditor: 'Auditor' },
  admin: {
    users: 'Users and roles', email: 'Email', role: 'Role', department: 'Department', active: 'Active', newUser: 'New user',
    password: 'Initial password', teams: 'Teams and skills', kind: 'Kind', skills: 'Skills', members: 'Members', newTeam: 'New team',
    problemCodes: 'Problem codes', code: 'Code', category: 'Category', nameZh: 'Chinese name', nameEn: 'English name', reviewDept: 'Review department',
    tokens: 'API tokens', newToken: 'New token', secretOnce: 'The token secret is shown only once; save it now:', revoke: 'Revoke', revoked: 'Revoked',
    createdBy: 'Created by', createdAt: 'Created', audit: 'Audit log', actor: 'Actor', action: 'Action', object: 'Object',
    verify: 'Verify hash chain', chainOk: 'Chain intact: {n} entries checked', chainBroken: 'Chain broken: {msg}', before: 'Before', after: 'After',
    objectType: 'Object type', widget: 'Web chat widget', widgetHint: 'Put this snippet on any web page to show the chat bubble:',
  },
  track: {
    title: 'Ticket progress', company: 'Company', number: 'Ticket', current: 'Current stage', updated: 'Last update', notFound: 'This link is invalid or the ticket does not exist',
  },
  widget: {
    title: 'Chat with us', greeting: 'Hello! How can we help you?', placeholder: 'Type a message…', send: 'Send', name: 'Your name (optional)',
    start: 'Start chat', you: 'Me', agent: 'Agent', bot: 'Assistant', reconnecting: 'Reconnecting…', open: 'Open chat', close: 'Close',
    system: 'System', rate: 'Did this answer help? Please rate it:', rateN: '{n} points', rateLow: 'Not helpful', rateHigh: 'Very helpful',
    messageTaken: 'Message received: ticket {ticket}. We will get back to you soon.', handedOff: 'You are being connected to an agent, ticket {ticket}', queue: '{n} ahead of you', wait: 'about {m} min wait',
    leaveMessage: 'Leave a message', offlineHint: 'Leave us a message any time and we will get back to you.', phone: 'Phone', email: 'Email', offlineMessage: 'Describe your question',
    backToChat: 'Back to chat', contactNeeded: 'Please leave a phone number or an email so we can reach you', leavingHint: 'Type your message and send it',
  },

  // —— added with the workspace extensions (SLA, compensation, collaboration, KB, bot, routing) ——
  views: { pick: 'Saved views', save: 'Save view', name: 'View name' },
  presence: { label: 'Presence', online: 'Online', away: 'Away', offline: 'Offline' },
  mention: { toast: '{who} mentioned you in an internal note', none: 'No mentions yet' },
  keys: {
    title: 'Keyboard shortcuts', help: 'Open this help', conversations: 'Go to conversations', tickets: 'Go to tickets',
    nextPrev: 'Next / previous', search: 'Search tickets', reply: 'Reply to the customer', note: 'Write an internal note', templates: 'Open the template library',
    suggestion: 'Use suggested reply 1–3', send: 'Send', escape: 'Leave the text field',
  },
  tpl: { library: 'Reply templates', suggested: 'Suggested:', category: 'Category', missing: 'No value for: {vars}' },
  sla: {
    title: 'SLA', admin: 'SLA policies and calendars', policies: 'SLA policies', calendars: 'Business calendars', policy: 'Policy', noClocks: 'No SLA clock',
    metricCol: 'Metric', left: 'Left', events: 'SLA events', overdue: 'Overdue {d}', paused: 'Paused', breached: 'Breached',
    metric: { first_response: 'First response', next_response: 'Next response', periodic_update: 'Periodic update', resolution: 'Resolution' },
    state: { running: 'Running', paused: 'Paused', fulfilled: 'Met' },
    kind: { activated: 'Started', paused: 'Paused', resumed: 'Resumed', warned: 'Warning', breached: 'Breached', fulfilled: 'Met' },
    cond: { severity: 'Severity', tier: 'Tier', problem_code: 'Problem code', channel: 'Channel', urgency: 'Urgency', team: 'Team' },
    day: { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' },
    conditions: 'Conditions', targets: 'Targets', escalation: 'Escalation', anyTicket: 'Every ticket', business: 'business hours', calendar: 'calendar hours',
    warn: 'warn at', firstMatch: 'Checked in order; the first matching policy applies', timeZone: 'Time zone', week: 'Weekly hours', closed: 'closed',
    holidays: 'Holidays', workdays: 'Make-up workdays',
    policiesHelp: 'In order; the first match applies. Each has name, conditions (severity, tier, problem_code, channel, urgency, team), targets (metric, duration such as 4h, mode calendar or business:CALENDAR_ID, warn such as 80%) and escalation (on: warned/breached, actions).',
    calendarsHelp: 'Each calendar has id, time_zone (e.g. Asia/Shanghai), week (7 entries Monday to Sunday, e.g. 09:00-18:00 or closed), holidays (dates) and workdays (make-up working days).',
  },
  comp: {
    tab: 'Compensation', title: 'Compensation approvals', type: 'Type', amount: 'Amount (¥)', basis: 'Basis', basisHint: 'Required: why this compensation (e.g. quality defect, 3 days late)',
    basisRequired: 'Please give the basis', request: 'Request compensation', requestedBy: 'Requested by', queue: 'Waiting for me', mine: 'My requests', reportsDue: 'Reports due',
    approve: 'Approve', reject: 'Reject', approved: 'Approved', rejected: 'Rejected', notePlaceholder: 'Note (required to reject)', reasonRequired: 'A rejection needs a reason',
    report: 'Written report', reportPlaceholder: 'The written report due within 48 h', fileReport: 'File report', rejectedBecause: 'Rejected because',
    kind: { voucher: 'Voucher', refund: 'Refund', credit: 'Account credit', free_shipping: 'Free shipping' },
    level: { agent: 'Agent', supervisor: 'Supervisor', cs_head: 'CS head' },
    status: { pending: 'Pending', granted: 'Granted', rejected: 'Rejected' },
    outcome: { granted: 'Within your authority: granted', pending: 'Above your authority: sent for approval', escalated: 'Sent to the next level' },
    action: { approved: 'approved', rejected: 'rejected', escalated: 'passed up', requested: 'requested', granted: 'granted' },
  },
  collab: {
    tab: 'Collaboration', title: 'Department collaboration', department: 'Department', question: 'Question', dueIn: 'Due in (hours)', ask: 'Ask the department', sent: 'Sent to the department',
    open: 'Open', completed: 'Completed', overdue: 'Overdue', due: 'Due', answer: 'Answer', addUpdate: 'Add update', complete: 'Answer and close',
    replyPlaceholder: 'A progress update or the final answer',
  },
  dept: { tech: 'Tech', finance: 'Finance', logistics: 'Logistics', legal: 'Legal', quality: 'Quality' },
  triggers: {
    title: 'Triggers and automations', help: 'Rules run in order: when (events) → if (conditions) → then (actions)', new: 'New rule', position: 'Order',
    when: 'When', if: 'If', then: 'Then', ruleHelp: 'when: a list of events (e.g. ticket.created); if: a condition tree (all / any / not, or field, op, value); then: a list of actions (e.g. set_urgency, add_tag, assign_team, reply). Checked on save.',
  },
  kb: {
    title: 'Knowledge base', faqs: 'FAQ', question: 'Question', variants: 'Similar phrasings', variantsHint: 'Enter adds a phrasing', answer: 'Answer', lang: 'Lang', intent: 'Intent',
    version: 'Version', versions: 'Version history', publish: 'Publish', unpublish: 'Unpublish', newFaq: 'New FAQ', editFaq: 'Edit FAQ',
    status: { draft: 'Draft', published: 'Published' },
    newTpl: 'New template', body: 'Text', tplHelp: 'Replies agents insert with one click; {\'{{\'}customer.name{\'}}\'}, {\'{{\'}ticket.number{\'}}\'} and other variables are filled in',
    tplVars: 'Variables: {\'{{\'}customer.name{\'}}\'} {\'{{\'}ticket.number{\'}}\'} {\'{{\'}ticket.subject{\'}}\'} …',
    importExport: 'Import / export', importHelp: 'Upload CSV or XLSX: the first row names the columns, 问题 (question) and 答案 (answer) required; 相似问法, 分类, 标签, 语言, 状态, 意图 optional. "Check" first for a row-by-row report, then "Import".',
    check: 'Check (no changes)', import: 'Import', dryRunResult: 'Check result:', importResult: 'Imported:',
    counts: '{rows} rows: {created} new, {updated} updated, {unchanged} unchanged, {rejected} with errors', row: 'Row', column: 'Column', problem: 'Problem',
    export: 'Export every FAQ', matching: 'Matching', answerThreshold: 'Answer threshold', confirmThreshold: 'Confirm threshold',
    thresholdHelp: 'At or above "answer" the bot answers; between the two it asks "Did you mean…?"; below "confirm" it is a no-match.',
  },
  bot: {
    title: 'Bot', settings: 'Settings', metrics: 'Metrics', enabled: 'Bot enabled', defaultLang: 'Default language', askRating: 'Ask for a rating after answers',
    handoff: 'Hand-off rules', ratingAtMost: 'Rating at most', unmatched: 'Unmatched in a row', strongNegative: 'Strong negative emotion', onRequest: 'Customer asks for a human',
    phrases: 'Extra hand-off phrases', phrasesHint: 'e.g. talk to someone', vipDirect: 'VIPs go straight to a human', texts: 'Texts', flows: 'Flows and connectors',
    flowsHelp: 'flows (name, intents, slots, connector, answer, on_failure) and connectors (name, method, url, headers, body, secret, timeout_ms, fields, allow_hosts). Secrets show as ********; saving them unchanged keeps them.',
    lastDays: 'Last {n} days', conversations: 'Conversations', containment: 'Containment', answered: 'Answered', handedOff: 'Handed off', noMatch: 'No-match rate',
    byReason: 'Hand-offs by reason', reason: 'Reason', count: 'Count', byIntent: 'Ratings by intent', ratings: 'Ratings', mean: 'Mean',
    reasons: { requested: 'Requested', strong_negative: 'Strong negative emotion', vip: 'VIP', low_rating: 'Low rating', unmatched: 'Unmatched', slot_failed: 'Slot filling failed', connector_failed: 'Connector failed' },
    text: {
      welcome: 'Welcome', confirm: 'Did you mean', none_of_these: '"None of these" button', no_match: 'No match', rating_prompt: 'Rating prompt', rating_thanks: 'Rating thanks',
      handoff: 'Hand-off', after_hours: 'After hours', message_taken: 'Message taken', connector_failed: 'Connector failed', slot_gave_up: 'Gave up asking',
      wait_long: 'Long wait', leave_message: '"Leave a message" button', leave_message_prompt: 'Leave-a-message prompt',
    },
  },
  routing: {
    title: 'Routing', help: 'New tickets go to online agents by skills, presence and load; team skills are edited under Teams.', teams: 'Front-line teams', agents: 'Agent capacity',
    strategy: 'Strategy', strategies: { least_loaded: 'Least loaded', round_robin: 'Round robin' }, overflow: 'Overflow to', after: 'After waiting', minutes: 'minutes',
    capacity: 'Capacity', capacityText: '{chats} chats · {tickets} tickets', maxChats: 'Concurrent chats', maxTickets: 'Concurrent tickets', senior: 'Senior (red channel)',
  },
  json: { invalid: 'Invalid JSON: {msg}' },
  attach: {
    image: 'Send an image', enlarge: 'Enlarge {name}', loading: 'Loading', unavailable: 'cannot be shown', uploading: 'Uploading the image…',
    tooLarge: 'Images may be at most 10 MB', refused: 'Only JPG, PNG, GIF or WebP images can be sent', failed: 'The image could not be uploaded: {msg}', pending: 'Images to send', remove: 'Remove',
  },
}

export default en
