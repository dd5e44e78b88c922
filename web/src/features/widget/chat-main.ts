// Entry of the chat panel (chat.html), opened by widget.js in an iframe. Vue and vue-i18n
// only; no Element Plus, to keep the widget light.
import { createApp } from 'vue'
import { i18n } from '@/i18n'
import ChatApp from './ChatApp.vue'

document.documentElement.lang = i18n.global.locale.value
createApp(ChatApp).use(i18n).mount('#chat')
