/**
 * English text normalisation for word error rates, after the rules of OpenAI Whisper's
 * `EnglishTextNormalizer` (the Whisper paper, appendix C), written anew:
 *
 * - lower case; diacritics dropped (`café` → `cafe`);
 * - text in brackets, angle brackets or parentheses removed (`[beep]`, `(laughs)`), and the
 *   fillers `hmm`, `mm`, `mhm`, `mmm`, `uh`, `um`;
 * - titles spelled out: `Mr.` → `mister`, `Mrs.` → `missus`, `Dr.` → `doctor`, `St.` → `saint`, …;
 * - numbers as digits: `ten` → `10`, `twenty-one` → `21`, `one hundred and five` → `105`,
 *   `nineteen ninety nine` → `1999`, `one oh one` → `101`, `3.5 million` → `3500000`,
 *   `twenty first` → `21st`, `the nineties` → `the 90s`; `1,000` → `1000`;
 * - symbols as words: `10%` → `10 percent`, `$5` → `5 dollars` (likewise £ € ¢), `&` → `and`;
 * - British spellings as American ones for a set of common words (`colour` → `color`);
 * - hyphens and other punctuation split words; a `.` stays only inside a number.
 *
 * Unlike Whisper's, contractions are left as they are (`it's` stays `it's`), and currency and
 * percent come out as words rather than symbols: the same text either way on both sides.
 */

const ONES = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
]
const ONES_VALUE = new Map(ONES.map((w, i) => [w, i]))
const ONES_ORDINAL = new Map<string, [number, string]>(
  ONES.map((w, i): [string, [number, string]] => {
    const irregular: Record<string, string> = {
      zero: 'zeroth',
      one: 'first',
      two: 'second',
      three: 'third',
      five: 'fifth',
      eight: 'eighth',
      nine: 'ninth',
      twelve: 'twelfth',
    }
    const suffix = i === 1 ? 'st' : i === 2 ? 'nd' : i === 3 ? 'rd' : 'th'
    return [irregular[w] ?? `${w}th`, [i, suffix]]
  }),
)
const TENS_WORDS = ['twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety']
const TENS = new Map(TENS_WORDS.map((w, i) => [w, (i + 2) * 10]))
const TENS_SUFFIXED = new Map<string, [number, string]>(
  TENS_WORDS.flatMap((w, i): [string, [number, string]][] => [
    [w.replace(/y$/, 'ieth'), [(i + 2) * 10, 'th']],
    [w.replace(/y$/, 'ies'), [(i + 2) * 10, 's']],
  ]),
)
const MULTIPLIERS = new Map([
  ['hundred', 100],
  ['thousand', 1_000],
  ['million', 1_000_000],
  ['billion', 1_000_000_000],
  ['trillion', 1_000_000_000_000],
])
const MULTIPLIERS_ORDINAL = new Map([...MULTIPLIERS].map(([w, v]) => [`${w}th`, v]))

const TITLES: Record<string, string> = {
  mr: 'mister',
  mrs: 'missus',
  st: 'saint',
  dr: 'doctor',
  prof: 'professor',
  capt: 'captain',
  gov: 'governor',
  ald: 'alderman',
  gen: 'general',
  sen: 'senator',
  rep: 'representative',
  pres: 'president',
  rev: 'reverend',
  hon: 'honorable',
  asst: 'assistant',
  assoc: 'associate',
  lt: 'lieutenant',
  col: 'colonel',
  jr: 'junior',
  sr: 'senior',
  esq: 'esquire',
}

/** Whole-word British spellings (and their inflections) with their American form. */
const SPELLINGS: Record<string, string> = {
  grey: 'gray',
  greys: 'grays',
  greyish: 'grayish',
  tyre: 'tire',
  tyres: 'tires',
  aluminium: 'aluminum',
  cheque: 'check',
  cheques: 'checks',
  programme: 'program',
  programmes: 'programs',
  defence: 'defense',
  offence: 'offense',
  offences: 'offenses',
  licence: 'license',
  licences: 'licenses',
  pretence: 'pretense',
  practise: 'practice',
  practised: 'practiced',
  practising: 'practicing',
  plough: 'plow',
  ploughed: 'plowed',
  sceptic: 'skeptic',
  sceptical: 'skeptical',
  scepticism: 'skepticism',
  aeroplane: 'airplane',
  aeroplanes: 'airplanes',
  moustache: 'mustache',
  pyjamas: 'pajamas',
  kerb: 'curb',
  storey: 'story',
  storeys: 'stories',
  draught: 'draft',
  draughts: 'drafts',
  gaol: 'jail',
  mould: 'mold',
  mouldy: 'moldy',
  smoulder: 'smolder',
  jewellery: 'jewelry',
  marvellous: 'marvelous',
  enrolment: 'enrollment',
  fulfil: 'fulfill',
  fulfils: 'fulfills',
  fulfilment: 'fulfillment',
  skilful: 'skillful',
  wilful: 'willful',
  ageing: 'aging',
  judgement: 'judgment',
  judgements: 'judgments',
  acknowledgement: 'acknowledgment',
  manoeuvre: 'maneuver',
  manoeuvres: 'maneuvers',
  catalogue: 'catalog',
  catalogues: 'catalogs',
  analogue: 'analog',
  dialogue: 'dialog',
  dialogues: 'dialogs',
  paediatric: 'pediatric',
  anaemia: 'anemia',
  anaesthetic: 'anesthetic',
  encyclopaedia: 'encyclopedia',
  oestrogen: 'estrogen',
  learnt: 'learned',
  whisky: 'whiskey',
}
/** Stems whose `-our` is `-or` in American spelling (colour, colours, coloured, colourful…). */
const OUR =
  /^(col|fav|hon|lab|neighb|behavi|flav|hum|rum|harb|arm|vap|od|vig|rig|splend|clam|parl|savi|sav|endeav|tum|val|ard|cand|ferv|ranc)our(s|ed|ing|ite|ites|able|ably|al|er|ers|ful|less|hood|hoods|ly|y)?$/
/** Stems whose `-ise`/`-isation` is `-ize`/`-ization`. */
const ISE =
  /^(organ|real|recogn|apolog|special|standard|minim|maxim|summar|priorit|categor|critic|memor|normal|author|util|visual|civil|character|modern|optim|emphas|symbol|general|final|custom|central|capital|legal|familiar|monopol|revolution|local|global|personal|industrial|commercial|sympath|hospital|harmon|jeopard|colon|item|fertil|tranquil|stabil|neutral|synchron|energ|mobil|subsid|computer|polar|terror|natural|fantas|agon|scrutin|vandal|patron|steril|equal|initial)is(e|es|ed|ing|ation|ations|er|ers)$/
const YSE = /^(anal|paral|catal)ys(e|es|ed|ing|er|ers)$/
/** `-re` words that end in `-er` in American spelling. */
const RE = /^(cent|theat|met|lit|fib|calib|somb|spect|lust|meag|sab|mit|sepulch)re(s|d)?$/
/** Doubled `l` before a suffix: travelled → traveled. */
const LL =
  /^(travel|cancel|label|model|signal|fuel|level|counsel|marvel|total|quarrel|channel|tunnel|dial|jewel|shovel|snorkel|duel|equal|rival|pencil|panel)l(ed|ing|er|ers|or|ors)$/

function americanSpelling(word: string): string {
  const direct = SPELLINGS[word]
  if (direct) return direct
  if (OUR.test(word)) return word.replace(OUR, (_, stem: string, suffix = '') => `${stem}or${suffix}`)
  if (ISE.test(word)) return word.replace(/is(e|es|ed|ing|ation|ations|er|ers)$/, 'iz$1')
  if (YSE.test(word)) return word.replace(/ys(e|es|ed|ing|er|ers)$/, 'yz$1')
  if (RE.test(word)) return word.replace(/re(s|d)?$/, (_, s = '') => `er${s}`)
  if (LL.test(word)) return word.replace(/l(ed|ing|er|ers|or|ors)$/, '$1')
  return word
}

const LETTERS_NOT_DECOMPOSED: Record<string, string> = {
  œ: 'oe',
  æ: 'ae',
  ø: 'o',
  ß: 'ss',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ł: 'l',
}

/** Drops diacritics: `café` → `cafe`, `número` → `numero`, `straße` → `strasse`. */
export function removeDiacritics(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{Mn}/gu, '')
    .replace(/[œæøßđðþłŒÆØĐÐÞŁ]/g, (c) => {
      const lower = LETTERS_NOT_DECOMPOSED[c.toLowerCase()]!
      return c === c.toLowerCase() ? lower : lower.toUpperCase()
    })
}

const CURRENCY: Record<string, string> = { $: 'dollars', '£': 'pounds', '€': 'euros' }
const isNumberWord = (w: string | undefined) =>
  w !== undefined && (ONES_VALUE.has(w) || TENS.has(w) || MULTIPLIERS.has(w) || /^\d+(\.\d+)?$/.test(w))

/** Spelled-out numbers in a list of words → digits. */
function standardizeNumbers(words: readonly string[]): string[] {
  const out: string[] = []
  let value: number | string | null = null
  let repeat = 1
  const flush = (suffix = '') => {
    if (value !== null) out.push(`${value}${suffix}`)
    value = null
  }
  /** One to nineteen (`k`) after what is there: added in its place, or written after it. */
  const addSmall = (k: number, prev: string | undefined): number | string => {
    if (repeat > 1) {
      const digits = String(k).repeat(repeat)
      repeat = 1
      return `${value ?? ''}${digits}`
    }
    if (value === null) return k
    if (typeof value === 'string' || ONES_VALUE.has(prev ?? '')) {
      const s = String(value)
      return TENS.has(prev ?? '') && k < 10 && s.endsWith('0') ? s.slice(0, -1) + k : s + k
    }
    if ((k < 10 && value % 10 === 0) || (k >= 10 && value % 100 === 0)) return value + k
    return `${value}${k}`
  }
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!
    const prev = words[i - 1]
    const next = words[i + 1]
    if (/^\d+(\.\d+)?$/.test(w)) {
      if (typeof value === 'string' && value.endsWith('.')) {
        value += w
        continue
      }
      flush()
      value = w.includes('.') || w.startsWith('0') ? w : Number(w)
    } else if (w === 'zero' || ((w === 'oh' || w === 'o') && value !== null && isNumberWord(next))) {
      value = `${value ?? ''}${'0'.repeat(repeat)}`
      repeat = 1
    } else if (ONES_VALUE.has(w)) {
      value = addSmall(ONES_VALUE.get(w)!, prev)
    } else if (ONES_ORDINAL.has(w)) {
      const [k, suffix] = ONES_ORDINAL.get(w)!
      if (value !== null && ONES_VALUE.has(prev ?? '')) flush() // "one second": 1 2nd
      value = addSmall(k, prev)
      flush(suffix)
    } else if (TENS.has(w) || TENS_SUFFIXED.has(w)) {
      const [t, suffix] = TENS.has(w) ? [TENS.get(w)!, ''] : TENS_SUFFIXED.get(w)!
      if (value === null) value = t
      else if (typeof value === 'number' && value % 100 === 0) value += t
      else value = `${value}${t}`
      if (suffix) flush(suffix)
    } else if (MULTIPLIERS.has(w) || MULTIPLIERS_ORDINAL.has(w)) {
      const m = MULTIPLIERS.get(w) ?? MULTIPLIERS_ORDINAL.get(w)!
      if (value === null) value = m
      else if (typeof value === 'string') {
        const product: number = Number(value) * m
        if (Number.isInteger(product) && !/^0\d/.test(value)) value = product
        else {
          flush()
          value = m
        }
      } else value = value - (value % 1000) + (value % 1000) * m
      if (MULTIPLIERS_ORDINAL.has(w)) flush('th')
    } else if (w === 'and' && value !== null && MULTIPLIERS.has(prev ?? '') && isNumberWord(next)) {
      // "one hundred and five": the "and" is part of the number
    } else if (w === 'point' && value !== null && isNumberWord(next) && !MULTIPLIERS.has(next ?? '')) {
      value = `${value}.`
    } else if ((w === 'double' || w === 'triple') && (ONES_VALUE.get(next ?? '') ?? 10) < 10) {
      repeat = w === 'double' ? 2 : 3
    } else {
      flush()
      out.push(w)
    }
  }
  flush()
  return out
}

/** Normalises English text for comparison (see the module's comment for the rules). */
export function normalizeEnglish(text: string): string {
  let s = removeDiacritics(text.normalize('NFKC').toLowerCase())
    .replace(/[’‘`´]/g, "'")
    .replace(/[<[][^>\]]*[>\]]/g, ' ')
    .replace(/\([^)]*\)/g, ' ')
    .replace(/\b(hmm|mm|mhm|mmm|uh|um)\b/g, ' ')
  s = s
    .replace(/(\d),(?=\d{3}\b)/g, '$1')
    .replace(/(\d)\s*%/g, '$1 percent ')
    .replace(/%/g, ' percent ')
    .replace(/\bper cent\b/g, 'percent')
    .replace(
      /([$£€])\s*(\d+(?:\.\d+)?)(\s+(?:hundred|thousand|million|billion|trillion)\b)?/g,
      (_, sign: string, n: string, mult = '') => `${n}${mult} ${CURRENCY[sign]} `,
    )
    .replace(/(\d)\s*¢/g, '$1 cents ')
    .replace(/&/g, ' and ')
    .replace(/([a-z])(?=\d)/g, '$1 ')
    .replace(/(\d)(?=[a-z])/g, '$1 ')
    .replace(/(\d) (st|nd|rd|th|s)\b/g, '$1$2')
    .replace(/(\d)\.(?=\d)/g, '$1\uE000')
    .replace(/[^\p{L}\p{N}'\uE000]+/gu, ' ')
    .replace(/\uE000/g, '.')
  const words = s
    .split(' ')
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter(Boolean)
    .map((w) => TITLES[w] ?? americanSpelling(w))
  return standardizeNumbers(words).join(' ')
}

/** {@link normalizeEnglish}'s words. */
export function englishWords(text: string): string[] {
  const s = normalizeEnglish(text)
  return s ? s.split(' ') : []
}
