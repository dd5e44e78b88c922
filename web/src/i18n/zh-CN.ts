// 简体中文（默认语言）。Keys are shared with en.ts; a missing key fails the type check there.
export default {
  app: { name: '慧听', title: '慧听 客服工作台' },
  lang: { label: '语言', zh: '中文', en: 'English' },
  common: {
    save: '保存', cancel: '取消', create: '新建', refresh: '刷新', loading: '加载中…', empty: '暂无数据',
    none: '无', all: '全部', yes: '是', no: '否', actions: '操作', saved: '已保存', error: '出错了',
    copy: '复制', copied: '已复制', back: '返回', more: '加载更多', search: '搜索', name: '名称',
    live: '实时', offline: '连接中断，正在重连…',
  },
  nav: { inbox: '工作台', admin: '管理', users: '用户', teams: '团队', problemCodes: '问题代码', tokens: 'API 令牌', audit: '审计日志', logout: '退出登录' },
  login: {
    title: '登录慧听', workspace: '工作区', email: '邮箱', password: '密码', submit: '登录',
    failed: '登录失败：{msg}', hint: '演示账号（密码均为 huiting-demo-2026）：',
  },
  inbox: {
    conversations: '会话', tickets: '工单', status: '状态', channel: '渠道', handler: '处理方',
    mine: '只看我的', unassigned: '未分配', searchTickets: '搜索工单主题', severity: '严重度',
    pick: '从左侧选择一个会话或工单', newMessage: '新消息',
  },
  conv: {
    transcript: '对话记录', reply: '回复客户', note: '内部备注', send: '发送', addNote: '添加备注',
    replyPlaceholder: '输入回复，Ctrl+Enter 发送', notePlaceholder: '仅团队可见的内部备注',
    internal: '内部备注', customer: '客户', bot: '机器人', agent: '客服', system: '系统',
    resolve: '标记已解决', reopen: '重新打开', tickets: '相关工单',
  },
  customer: { panel: '客户信息', tier: '等级', identities: '身份', pastTickets: '历史工单', since: '创建于', noTickets: '没有工单' },
  ticket: {
    number: '编号', subject: '主题', status: '状态', stage: '阶段', severity: '严重度', urgency: '紧急度',
    problemCode: '问题代码', assignee: '处理人', team: '团队', tags: '标签', created: '创建时间', updated: '更新时间',
    fields: '工单字段', history: '变更历史', changeStatus: '变更状态', trackingLink: '客户跟踪链接',
    conversation: '查看会话', reply: '回复', messages: '消息',
  },
  status: {
    new: '新建', open: '处理中', pending: '待客户回复', on_hold: '挂起', solved: '已解决', closed: '已关闭', reopen: '重新打开',
    resolved: '已解决',
  },
  urgency: { normal: '普通', urgent: '紧急', critical: '特急' },
  severityLabel: { L1: 'L1 紧急', L2: 'L2 重要', L3: 'L3 一般', L4: 'L4 建议/咨询' },
  channel: { web_chat: '网页聊天', app: 'App', email: '邮件', phone: '电话', social: '社交媒体', sms: '短信', web_form: '网页表单', api: 'API' },
  handler: { bot: '机器人', human: '人工' },
  tier: { ordinary: '普通', vip: 'VIP' },
  role: { admin: '管理员', cs_head: '客服主管', supervisor: '组长', agent: '客服', dept_member: '部门成员', auditor: '审计员' },
  admin: {
    users: '用户与角色', email: '邮箱', role: '角色', department: '部门', active: '启用', newUser: '新建用户',
    password: '初始密码', teams: '团队与技能', kind: '类型', skills: '技能', members: '成员', newTeam: '新建团队',
    problemCodes: '问题代码', code: '代码', category: '类别', nameZh: '中文名称', nameEn: '英文名称', reviewDept: '复核部门',
    tokens: 'API 令牌', newToken: '新建令牌', secretOnce: '令牌密钥只显示这一次，请立即保存：', revoke: '吊销', revoked: '已吊销',
    createdBy: '创建人', createdAt: '创建时间', audit: '审计日志', actor: '操作者', action: '动作', object: '对象',
    verify: '校验哈希链', chainOk: '哈希链完整：已校验 {n} 条', chainBroken: '哈希链损坏：{msg}', before: '变更前', after: '变更后',
    objectType: '对象类型', widget: '网页聊天插件', widgetHint: '把下面这段代码放进任意网页，即可显示在线客服气泡：',
  },
  track: {
    title: '工单进度', company: '服务商', number: '工单号', current: '当前阶段', updated: '最近更新', notFound: '链接无效或工单不存在',
  },
  widget: {
    title: '在线客服', greeting: '您好！请问有什么可以帮您？', placeholder: '请输入消息…', send: '发送', name: '您的称呼（选填）',
    start: '开始咨询', you: '我', agent: '客服', bot: '智能助手', reconnecting: '正在重新连接…', open: '打开在线客服', close: '关闭',
  },
}
