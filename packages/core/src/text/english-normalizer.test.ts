import { describe, expect, it } from 'vitest'
import { englishWords, normalizeEnglish, removeDiacritics } from './english-normalizer.js'
import { normalizeWord } from './normalize.js'
import { corpusWordErrorRate, isEnglishLanguage, werWords, wordErrorRate } from './wer.js'

const same = (a: string, b: string) => expect(normalizeEnglish(a)).toBe(normalizeEnglish(b))

describe('normalizeEnglish', () => {
  it('lower-cases, drops punctuation and diacritics', () => {
    expect(normalizeEnglish('Hello, World! Café?')).toBe('hello world cafe')
    expect(normalizeEnglish('  ')).toBe('')
  })

  it('removes bracketed and parenthesised text, and fillers', () => {
    expect(normalizeEnglish('[beep] Please hold (music) <noise> on')).toBe('please hold on')
    expect(normalizeEnglish('Um, I think, uh, yes')).toBe('i think yes')
  })

  it('writes spelled-out numbers as digits', () => {
    same('ten', '10')
    same('twenty-one', '21')
    same('twenty one', '21')
    same('one hundred and five', '105')
    same('two thousand twenty', '2020')
    same('nineteen ninety nine', '1999')
    same('one oh one', '101')
    same('three point five', '3.5')
    same('3.5 million', '3500000')
    same('two million three hundred thousand', '2,300,000')
    same('five five five one two one two', '5551212')
    same('double seven', '77')
    expect(normalizeEnglish('Press one to mute, two to lock')).toBe('press 1 to mute 2 to lock')
    expect(normalizeEnglish('Please press 1 to mute')).toBe('please press 1 to mute')
  })

  it('writes ordinals and decades with digits', () => {
    same('the twenty first of May', 'the 21st of May')
    same('first', '1st')
    same('the third time', 'the 3rd time')
    same('the nineties', "the '90s")
    same('the hundredth', 'the 100th')
    expect(normalizeEnglish('one second')).toBe('1 2nd')
  })

  it('spells out titles', () => {
    same('Mr. Smith', 'mister smith')
    same('Mrs. Smith', 'missus smith')
    same('Dr. Jones', 'doctor jones')
    same('St. Louis', 'saint louis')
    same('John Smith Jr.', 'john smith junior')
  })

  it('turns symbols into words', () => {
    same('10%', 'ten percent')
    same('ten per cent', '10 percent')
    same('$20', 'twenty dollars')
    same('$3 million', 'three million dollars')
    same('£5', 'five pounds')
    same('R&D', 'r and d')
    same('1,000', 'one thousand')
  })

  it('uses American spelling', () => {
    same('colour', 'color')
    same('The neighbours favourite colours', 'the neighbors favorite colors')
    same('organise organisation realised', 'organize organization realized')
    same('analyse the centre of the theatre', 'analyze the center of the theater')
    same('travelled cancelled modelling', 'traveled canceled modeling')
    same('grey tyres', 'gray tires')
    expect(normalizeEnglish('four hours pour our tour')).toBe('4 hours pour our tour')
  })

  it('splits hyphens, keeps contractions', () => {
    same('e-mail', 'e mail')
    same('well-known', 'well known')
    expect(normalizeEnglish("It's the party's choice, isn't it?")).toBe("it's the party's choice isn't it")
    expect(normalizeEnglish('‘quoted’ words')).toBe('quoted words')
  })

  it('separates letters from digits but keeps suffixes', () => {
    expect(normalizeEnglish('10km and RC232')).toBe('10 km and rc 232')
    expect(normalizeEnglish('the 1960s and the 274th')).toBe('the 1960s and the 274th')
  })

  it('removeDiacritics folds letters NFKD leaves alone', () => {
    expect(removeDiacritics('número Straße Æsir ø')).toBe('numero Strasse AEsir o')
  })
})

describe('word error rate with English rules', () => {
  it('counts spelling and number variants as the same word', () => {
    expect(wordErrorRate('I have ten apples', 'I have 10 apples.').wer).toBe(0)
    expect(wordErrorRate('Mr. Brown', 'Mister Brown').wer).toBe(0)
    expect(wordErrorRate('The colour grey', 'the color gray').wer).toBe(0)
    expect(wordErrorRate('twenty-one', '21').wer).toBe(0)
    expect(wordErrorRate('a well-known fact', 'a well known fact').wer).toBe(0)
    expect(corpusWordErrorRate([{ reference: 'ten percent', hypothesis: '10%' }])).toBe(0)
  })

  it('keeps the generic rules for other languages', () => {
    expect(wordErrorRate('diez', '10', { language: 'es' }).wer).toBe(1)
    expect(wordErrorRate('Sr. Gómez', 'senior gomez', { language: 'es' }).wer).toBe(1)
    expect(wordErrorRate('el número', 'el numero', { language: 'es' }).wer).toBe(0.5)
    expect(wordErrorRate('el número', 'el numero', { language: 'es', foldDiacritics: true }).wer).toBe(0)
    expect(werWords('Hello, World', { language: 'nl' })).toEqual(['hello', 'world'])
    expect(englishWords('')).toEqual([])
  })

  it('knows which codes are English', () => {
    expect([undefined, 'en', 'en-US', 'EN', 'eng', 'english'].map(isEnglishLanguage)).toEqual(
      Array(6).fill(true),
    )
    expect(['es', 'nl', 'de', 'fr'].map(isEnglishLanguage)).toEqual(Array(4).fill(false))
  })

  it('leaves normalizeWord (LocalAgreement) as it was', () => {
    expect(['Ten', 'Mr.', 'colour', "it's", 'Twenty-one'].map(normalizeWord)).toEqual([
      'ten',
      'mr',
      'colour',
      "it's",
      'twentyone',
    ])
  })
})
