// vue-i18n set-up: zh-CN by default, English complete; the choice is kept in localStorage.
import { createI18n } from 'vue-i18n'
import { store } from '@/storage'
import zh from './zh-CN'
import en from './en'

export type Locale = 'zh-CN' | 'en'
const KEY = 'huiting.locale'

export function initialLocale(): Locale {
  const fromUrl = new URLSearchParams(location.search).get('lang')
  const saved = fromUrl ?? store.get(KEY)
  return saved === 'en' ? 'en' : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zh, en },
})

export function setLocale(l: Locale) {
  i18n.global.locale.value = l
  store.set(KEY, l)
  document.documentElement.lang = l
}
