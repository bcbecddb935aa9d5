"""Whether decoded text reads as Korean: the test that keeps other legacy encodings (EUC-JP,
Shift_JIS, GB2312, Big5, Windows-1252, ...) from being shown as CP949 mojibake (R2.3a).

CP949 accepts almost any pair of high bytes, so "decodes without error" proves little: Japanese
kanji in EUC-JP land on Hangul syllables, hiragana on the compatibility jamo (ㄱ, ㅏ, ...),
accented Latin letters on the 8,822 syllables CP949 added to KS X 1001. Real Korean is made of
the KS X 1001 syllables, and mostly of a few hundred frequent ones; a misread is spread evenly
over all of them."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

# Frequent syllables of Korean names, addresses, customer notes and the words of a spreadsheet
# header; about 750 of the 2,350 in KS X 1001. Real text (names included) draws ~90 % of its
# syllables from this set, a misread encoding ~30 %.
COMMON = frozenset(
    "가각간갈감갑강개객거건걸검겁게겨격견결겸겠경계고곡곤골곳공과곽관광괴교구국군굴궁권귀규균"
    "그극근글금급기긴길김까깨께꼬꽃꾸꿈끝나낙난날남납낭내냉너널넘넣네넷녀년념녕노녹논놀농놓뇌누"
    "눈뉴느는늘능니닉님다단달담답당대댁더덕던데도독돈돌동돼되된될됨됩두둘뒤드득든들등디따딸때떡"
    "또뚜뜻라락란람랑래랜량러럼렇레려력련렬렴령례로록론롯료루류륙륜률르른를름릉리린림립링마막만"
    "많말맑망매맥맨맹머먹먼멀메며면멸명모목몰몸못몽묘무묵문물뭐므미민밀바박반발밝밤방배백뱅버번"
    "벌범법벤벨벽변별병보복본볼봄봉봐부북분불붕브비빈빌빛빠빨뻐뿌사삭산살삼상새색샘생샤샵서석선"
    "설섬섭성세센셀소속손솔송쇄쇠쇼수숙순술숨숭쉬스슬습승시식신실심십싱싶싸쌍써쓰씨아악안앉않알"
    "암압았앙앞애액앤앱야약양어억언얼엄업없었엇에엔엘여역연열염엽였영예오옥온올옴옵옷와완왕왜외"
    "요욕용우욱운울움웅워원월웨웹위유육윤율융으은을음읍응의이익인일임입잇있자작잔잘잠잡장재쟁저"
    "적전절점접정제젠조족존졸종좋좌죄죠주죽준줄줘중즈즉즐즘증지직진질짐집징짜째쪽차착찬찰참창채"
    "책처척천철첨첩청체초촉촌총최추축춘출충취츠측층치칙친칠침칭카칸캐커컨컴케켓코콘콜쿠크큰클키"
    "킨킹타탁탄탈탐탑탕태택터턴테텐텔토톡톤통퇴투퉁튜트특틀티틴팀파판팔패팩팽퍼페펜편평폐포폭폰"
    "표푸품풍프플피픽필핑하학한할함합항해핵했행향허헌험헤혁현혈협형혜호혹혼홀홍화확환활황회획효"
    "후훈훌훨휘휴흐흑흔흘흥희흰히힘"
)
HANGUL = re.compile("[\uac00-\ud7a3]")
JAMO = re.compile("[\u3131-\u318e]")  # compatibility jamo: EUC-JP's hiragana in a CP949 read
# A non-ASCII character touching an ASCII letter: "José", "Müller". Western text in UTF-8 is
# full of them; Korean names are not glued to Latin letters.
GLUED = re.compile(r"(?<=[A-Za-z])[^\x00-\x7f]|[^\x00-\x7f](?=[A-Za-z])")
NON_ASCII = re.compile(r"[^\x00-\x7f]")

MIN_HANGUL_SHARE = 0.6  # of the non-ASCII characters (the rest: Hanja, symbols, …)
MAX_EXTENSION_SHARE = 0.25  # CP949-only syllables such as 똠 and 햏 exist, but rarely
MAX_JAMO_SHARE = 0.2  # "ㅋㅋ" in a note, not a run of hiragana
MIN_COMMON_SHARE = 0.6  # of the syllables


@dataclass(frozen=True)
class KoreanScore:
    non_ascii: int
    hangul: int
    extension: int  # syllables only CP949 has (bytes below 0xA1)
    jamo: int
    common: int

    @property
    def reads_as_korean(self) -> bool:
        if not self.non_ascii:
            return True  # pure ASCII: any ASCII-compatible reading is the same text
        n = self.non_ascii
        return (
            self.hangul >= MIN_HANGUL_SHARE * n
            and self.extension <= MAX_EXTENSION_SHARE * n
            and self.jamo <= MAX_JAMO_SHARE * n
            and self.common >= MIN_COMMON_SHARE * self.hangul
        )


def korean_score(text: str) -> KoreanScore:
    """Counts over the non-ASCII characters of a CP949 reading of a file's text."""
    syllables = Counter(HANGUL.findall(text))
    hangul = extension = common = 0
    for char, count in syllables.items():
        lead, trail = char.encode("cp949")
        if lead < 0xA1 or trail < 0xA1:
            extension += count
        else:
            hangul += count
            if char in COMMON:
                common += count
    return KoreanScore(
        non_ascii=len(NON_ASCII.findall(text)),
        hangul=hangul,
        extension=extension,
        jamo=len(JAMO.findall(text)),
        common=common,
    )


def utf8_could_be_cp949(text: str) -> bool:
    """Whether text that decoded as UTF-8 may be CP949 Korean in disguise.

    The bytes of a Hangul syllable in CP949 are a valid UTF-8 character for about one
    syllable in ten (홍 is C8 AB, "ȫ" in UTF-8), so a short file of names can be valid UTF-8
    by chance. Its UTF-8 reading then holds only two-byte characters (U+0080-U+07FF), none
    glued to a Latin letter; real UTF-8 text has Hangul or CJK (three bytes) or accented words.
    """
    non_ascii = NON_ASCII.findall(text)
    if not non_ascii or max(non_ascii) >= "\u0800":
        return False
    return not GLUED.search(text)
