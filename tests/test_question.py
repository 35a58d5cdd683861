"""Question understanding on its own: units, years and what they mean, roles, lists, quantities, paraphrases."""
import re

from retrieval.search.question import understand
from retrieval.text import normalize_question


def ask(question: str, newest: int | None = 2026, units: tuple[str, ...] = ()):
    return understand(normalize_question(question), newest, units)


def test_units_by_official_name_short_name_and_capital():
    assert ask("内蒙古2025年的粮食产量？").units == ["内蒙古自治区"]
    assert ask("广西壮族自治区今年的目标").units == ["广西壮族自治区"]  # the long name is one mention
    assert ask("成都的地铁修了多少公里？").units == ["四川省"]
    assert ask("意识形态工作存在哪些问题？").units == []


def test_an_organ_the_index_knows_is_a_unit():
    q = ask("市委组织部的党建工作有哪些亮点？", units=("市委组织部", "县统计局"))
    assert q.units == ["市委组织部"]


def test_an_organ_is_named_without_its_level_where_a_clause_opens_with_it():
    units = ("市委组织部", "市局党组", "徐庄镇党委")
    assert ask("组织部有没有领导定期找干部谈心的制度", units=units).units == ["市委组织部"]
    assert ask("疫情防控关键时期，组织部机关干部是怎么参与的？", units=units).units == ["市委组织部"]
    assert ask("局党组跟驻局纪检组怎么会商？", units=units).units == ["市局党组"]
    assert ask("县委组织部这次考察查了多少个单位", units=units).units == []  # another level's organ
    assert ask("林业局党组开了几次党组会", units=units).units == []  # the bare name ends another organ's
    assert ask("党委班子查摆出哪些问题", units=units).units == []  # "党委" is too short to name a unit
    assert "徐庄镇党委" in ask("徐庄镇党委巡察整改完成了多少项", units=units).units  # a whole name, as before


def test_a_year_is_what_the_answer_is_about_unless_it_names_a_report():
    q = ask("湖南2024年城镇新增就业多少人？")
    assert q.years == {2024} and not q.report_years and not q.target
    q = ask("湖南2025年政府工作报告提出的就业目标是多少？")
    assert q.report_years == {2025} and not q.years and q.target
    q = ask("2019年政府工作报告提出当年赤字率是多少？")
    assert q.report_years == {2019} and q.years == {2019}  # 当年 = the report's year
    q = ask("2022年市委组织部机关党委书记机关党建述职下一步有什么打算？")  # a party-building report's long name
    assert q.report_years == {2022} and not q.years
    q = ask("2023年党建工作取得了哪些成效，和上级的要求相比还有什么差距？")  # no report named
    assert q.years == {2023} and not q.report_years


def test_years_written_in_chinese_numerals():
    q = ask("周总理一九五五年的报告讲，一九五四年基本建设投资多少？")
    assert q.report_years == {1955} and q.years == {1954}


def test_relative_years_count_from_the_newest_report():
    assert ask("去年全省粮食产量是多少？", newest=2026).years == {2025}
    assert ask("明年的工作打算有哪些？", newest=2023).years == {2024}
    assert ask("去年全省粮食产量是多少？", newest=None).years == set()


def test_a_five_year_plan_is_its_five_years():
    assert ask("“十四五”期间新增了多少就业？").years == set(range(2021, 2026))
    assert ask("十五五规划的主要目标").years == set(range(2026, 2031))


def test_target_or_result():
    assert ask("浙江2026年经济增长预期目标是多少？").target
    assert ask("浙江2026年计划新建多少所学校？").target
    assert not ask("浙江2025年地区生产总值增长了多少？").target
    assert ask("2003年政府工作报告里拟发行多少亿元国债？").target  # proposes to issue
    assert not ask("模拟演练开展了多少次？").target


def test_roles_and_lists():
    q = ask("意识形态工作存在哪些问题？")
    assert q.roles == ["problem"] and q.is_list
    q = ask("存在问题的原因是什么？")
    assert q.roles == ["cause"] and q.only_role and q.is_list
    q = ask("2024年的工作思路是什么？")
    assert q.roles == ["plan"] and q.only_role and q.is_list  # a year and generic words do not narrow it
    assert ask("发展中还面临哪些困难和挑战？").roles == ["problem"]
    assert ask("开展了哪些慰问困难群众的活动？").roles != ["problem"]  # 困难群众 are people, not a problem
    assert not ask("全年发展了多少名党员？").is_list
    assert not ask("下一步如何加强执纪监督？").is_list


def test_each_clause_that_asks_names_its_own_role():
    assert ask("基层党组织的作用为什么说发挥得不够充分，具体有哪些问题？").roles == ["cause", "problem"]
    assert ask("党建工作存在哪些问题，原因是什么？").roles == ["problem", "cause"]
    # a clause that asks nothing only sets the scene: the asking one's role, as in one clause
    assert ask("开展主题教育以来，还有哪些不足？").roles == ["problem"]
    assert ask("存在问题的原因是什么？").roles == ["cause"]  # one clause: the first row that matches


def test_how_many():
    assert ask("召开了多少次党组会？").quantity == "次"
    assert ask("新入党的同志有几个？").quantity  # any counted unit
    assert ask("意识形态工作存在哪些问题？").quantity is None
    for which in ("下一步准备从哪几方面入手？", "问题归结为哪几方面原因？", "查摆出了哪几个问题？", "下步打算有哪几项？"):
        q = ask(which)
        assert q.quantity is None and q.is_list, which  # which ones, not how many
    assert ask("新能源装机占多大比重？").quantity  # measured quantities too


def test_a_measured_quantity_is_stated():
    from retrieval.search.question import states_quantity

    q = ask("全年粮食总产量是多少？")
    assert states_quantity("全年粮食总产量达76.28亿斤，超额完成任务。", q.tokens, q.quantity)
    assert not states_quantity("粮食总产量再创新高，超额完成任务。", q.tokens, q.quantity)
    q = ask("新能源装机占多大比重？")
    assert states_quantity("新能源和清洁能源装机占比达到49.7%。", q.tokens, q.quantity)
    q = ask("党员多少人以上才设总支？")  # a web copy's space between a number and its unit
    assert states_quantity("有100 人以上党员的，成立了党的基层委员会和总支。", q.tokens, q.quantity)


def test_everyday_wording_also_searches_official_terms():
    q = ask("现在看病挂号方便吗？")
    assert {"就医", "号源"} <= set(q.official)
    assert "就医" in q.dense_text and "就医" in q.tokens
    assert ask("殡葬服务费降了多少？").official == []  # official wording needs nothing added
    assert "谈心" in ask("有没有领导定期找干部聊思想的制度").official  # party-building wording too


def test_a_word_and_its_synonyms_are_one_concept():
    q = understand(normalize_question("新入党的同志有几个？"))
    joined = [c for c in q.concepts if "入党" in c.words]
    assert len(joined) == 1 and "发展党员" in joined[0].words  # data/synonyms.txt
    assert [c.words[0] for c in q.concepts] == ["新", "入党", "同志"]


def test_a_word_said_with_a_qualifier_inside_it_says_the_whole_concept():
    """"思想建设" is said by "思想政治建设" (two characters between its halves), not by "思想和组织建设"."""
    q = ask("学校党支部怎么抓党员思想建设的")
    (c,) = [c for c in q.concepts if c.words[0] == "思想建设"]
    idf = {"思想建设": 3.0, "思想": 1.0, "建设": 0.5}
    assert c.credit("加强了党员干部的思想政治建设", idf) == c.weight(idf) == 3.0
    assert c.credit("抓好党员的思想建设", idf) == 3.0
    assert c.credit("抓好思想和组织建设", idf) == 1.0  # three characters between: only a part
    assert c.credit("统一思想，加快建设", idf) == 1.0  # never across a clause


def test_everyday_phrase_and_its_official_term_are_one_concept():
    q = understand(normalize_question("办丧事有什么新规定？"))
    funeral = [c for c in q.concepts if "殡葬" in c.words]
    assert len(funeral) == 1 and "办丧事" in funeral[0].words


def test_unit_and_year_words_are_left_to_metadata():
    q = understand(normalize_question("宁夏2025年全年粮食总产量是多少？"))
    assert [c.words[0] for c in q.concepts] == ["全年", "粮食", "总产量"]
    assert q.units == ["宁夏回族自治区"] and q.years == {2025}


def test_a_word_that_names_the_report_is_left_to_its_title_and_each_row_is_needed():
    """data/report_words.txt: each row's example names a report with the row's word, and the word is
    not a concept a passage must say; the same word done, not named, is asked about."""
    from retrieval.text import concepts, tab_rows

    for word, example in tab_rows("report_words.txt"):
        q = normalize_question(example)
        assert word in [c.words[0] for c in concepts(q)], example
        assert word not in [c.words[0] for c in understand(q).concepts], example
    assert [c.words[0] for c in ask("局党委意识形态汇报里开展了哪几方面工作").concepts][:3] == ["局", "党委", "意识形态"]
    for question, word in [("向党委汇报了几次工作", "汇报"), ("述职会开了几次", "述职"), ("建立了哪些汇报制度", "汇报"),
                           ("党组织书记述职评议开展得怎么样", "述职评议")]:
        assert word in [c.words[0] for c in ask(question).concepts], question


def test_a_word_that_only_asks_is_no_concept_and_no_keyword_and_each_row_is_needed():
    """data/asking_words.txt: jieba cuts each row's word out of its example, and the question's
    concepts and keywords leave it out; the words around it stay."""
    from retrieval.text import concepts, tab_rows

    for word, example in tab_rows("asking_words.txt"):
        q = normalize_question(example)
        assert word in [c.words[0] for c in concepts(q)], example
        asked = understand(q)
        assert word not in [c.words[0] for c in asked.concepts] and word not in asked.tokens, example
    q = ask("县委巡察办抓意识形态工作自身差在哪")
    assert [c.words[0] for c in q.concepts] == ["县委", "巡察", "办", "抓", "意识形态", "自身", "差"]
    assert "做" in [c.words[0] for c in ask("镇委分析检查阶段做了啥？").concepts]  # the work asked about


def test_how_long_asks_for_a_span_of_time():
    from retrieval.search.question import stating

    q = understand(normalize_question("受灾群众多久住进了新房？"))
    assert q.quantity and stating(q.quantity).search("不到一年全部住进新房")
    assert not stating(q.quantity).search("新建住房3000套")
    assert understand(normalize_question("要用多长时间调整国民经济？")).quantity == q.quantity


def test_every_intent_row_is_needed_by_its_example():
    """data/intent.txt: each row's example asks for the row's role, and would not without the row."""
    from retrieval.search.question import INTENT_ROWS
    from retrieval.text import normalize_question

    def first_role(rows, question):
        return next((role for role, pattern, _ in rows if pattern.search(question)), None)

    for i, (role, pattern, example) in enumerate(INTENT_ROWS):
        q = normalize_question(example)
        assert pattern.search(q), example
        assert first_role(INTENT_ROWS, q) == role, example
        assert first_role(INTENT_ROWS[:i] + INTENT_ROWS[i + 1:], q) != role, example


def test_prevention_of_a_risk_is_work_not_a_problem():
    assert ask("2024年公司廉洁风险防控怎么推进？").roles == ["highlight", "work"]
    assert ask("还面临哪些风险挑战？").roles == ["problem"]
    # the measures taken against a risk, a difficulty or a challenge: what was done, not the problem itself
    for question in ("湖北2024年在风险方面采取了哪些措施？", "2025年河南政府工作报告里风险有序化解是怎么做的？", "应对挑战有哪些举措？"):
        assert ask(question).roles == ["highlight", "work"], question
    for question in ("地方债务还有哪些风险？", "发展中还面临哪些困难？", "经济运行面临哪些挑战？", "帮扶困难群众存在哪些问题？"):
        assert ask(question).roles == ["problem"], question


def test_people_counted_with_ge_are_asked_in_the_measure_words_of_people():
    """data/counted.txt: "几个同志" is answered by "3名", not by "2次"; "积分多少" by "40分", not by "十分"."""
    from retrieval.search.question import ANY_UNIT, _counted, quantity_unit, stating
    assert len(_counted()) == 2
    for question in ("新入党的同志有几个？", "有几个同志参加了培训？", "党员有多少个？"):
        unit = quantity_unit(question)
        assert stating(unit).search("全年发展党员3名") and not stating(unit).search("先后2次专题学习"), question
    assert quantity_unit("有几个党支部？") == ANY_UNIT
    assert stating(quantity_unit("全年发展了多少名党员？")).search("发展党员3人")  # people, in any of their measure words
    score = stating(quantity_unit("党员学习强国日均积分多少？"))  # a score, counted in 分
    assert score.search("日人均分均超过40分") and score.search("考核得分98.5分")
    assert not any(score.search(s) for s in ("十分重要", "百分之三", "学习3分钟", "占三分之一", "发展党员3名"))


def test_a_measure_word_asked_is_answered_in_the_measure_words_reports_replace_it_with():
    """data/measure_words.txt: each row lets "多少<asked>" find a figure counted with each of its
    measure words, and only with those ("整改完成了多少项？" → "已完成整改98个", not "98人"; "推优了多少人" →
    "推荐了10名同学")."""
    from retrieval.search.question import _alike, quantity_unit, stating
    assert _alike()
    for asked, alike in _alike().items():
        unit = quantity_unit(f"完成了多少{asked}？")
        assert unit == alike
        for word in re.findall(r"[^\[\]]", alike):
            assert stating(unit).search(f"已完成98{word}"), (asked, word)
        for other in "人次元项":
            assert other in alike or not stating(unit).search(f"已完成98{other}"), (asked, other)
    assert quantity_unit("开了多少次会？") == "次"


def test_party_building_is_one_word_before_a_verb_that_could_take_its_last_character():
    """data/userdict.txt: "抓党建有什么亮点" is 抓 / 党建 / 有, not 抓党 / 建有 (jieba's own 党建, 141, loses to
    建有, 2610; 145 is the least that keeps it whole in these questions, the entry has 1000)."""
    from retrieval.text import concepts, tokenize

    for question in ("纪检监察机关党委抓党建有什么特色亮点？", "党建有何成效？", "支部党建有哪些问题？"):
        assert "党建" in tokenize(question) and "建有" not in tokenize(question), question
        assert any("党建" in c.words for c in concepts(question)), question
    assert "党建工作" in tokenize("党建工作存在哪些问题？")  # the longer words of the dictionary stay whole


def test_an_organ_is_one_word_and_a_dictionary_word_no_report_says_is_cut_apart():
    """data/userdict.txt: "教育工委" (a county's education work committee) is one word, so a figure
    answer needs one concept for it, not 教育 and 工委 apart; "时说" (jieba's own word, 648) is no word:
    "述职时说" is 述职 / 时 / 说, not a noun "时说" that no report says. Keyword search still finds
    "教育" and "工委" in the parts of "教育工委"."""
    from retrieval.text import concepts, tokenize

    words = [c.words for c in concepts("教育工委学四史活动中基层党组织开了多少次学习会")]
    assert ("教育工委",) in words and ("教育",) not in words and ("工委",) not in words
    assert {"教育", "工委", "教育工委"} <= set(tokenize("教育工委召开学习会"))
    question = "纪检监察机关党委书记述职时说，机关党建跟上级要求比还差在哪些地方？"
    assert not any("时说" in w for c in concepts(question) for w in c.words)
    assert "时说" not in tokenize(question) and "述职" in tokenize(question)


def test_next_step_asks_for_the_plan_and_is_never_matched_by_further():
    """data/stopwords.txt: 进一步 ("further", in nearly every passage) is a stop word, and so is 一步, the
    piece jieba's search mode cuts out of both 进一步 and 下一步: "下一步如何加强执纪监督？" asks for the plan
    (its role), and its keywords and concepts are 执纪监督 alone, never a 一步 that every "进一步加强" says."""
    from retrieval.text import tokenize

    q = ask("下一步如何加强执纪监督？")
    assert q.roles == ["plan"]
    assert [c.words[0] for c in q.concepts] == ["执纪监督"] and "一步" not in q.tokens
    assert "一步" not in tokenize("进一步加强执纪监督") and "执纪监督" in tokenize("进一步加强执纪监督")
    assert "一步一个脚印" in tokenize("一步一个脚印抓落实")  # a longer word keeps it


def test_a_written_year_ends_a_word_on_both_sides_of_its_nian():
    """jieba's HMM glued a year's 年 to an unknown next character ("年县", "年述责") and a numeral year's
    last digit to the 年 ("四年"): no token, no concept and no search-mode part spans those edges now,
    while a dictionary word that begins at the 年 stays whole ("年底", "年度")."""
    from retrieval.text import concepts, tokenize

    for text, junk, kept in (("2019年县社区党建工作述职", "年县", "社区"), ("2023年述责述廉报告", "年述责", "报告"),
                             ("二〇二四年工作总结", "四年", "总结")):
        assert junk not in tokenize(text) and kept in tokenize(text), (text, tokenize(text))
        assert not any(junk in c.members for c in concepts(text)), text
    assert "年底" in tokenize("2019年底前完成") and "年度" in tokenize("2020年度考核优秀")
    assert {"年产值", "年产", "产值"} <= set(tokenize("2019年产值增长8%"))  # search-mode parts of a kept word
    assert "四年" in tokenize("连续四年获评先进")  # not a year: jieba's own word


def test_an_index_is_rebuilt_when_the_words_tokens_are_cut_into_change(tmp_path, monkeypatch):
    """The keyword tokens an index holds were cut with data/userdict.txt and data/stopwords.txt: editing
    either changes the version an index is checked against, so it rebuilds."""
    import shutil

    from retrieval import text
    from retrieval.config import Settings
    from retrieval.store import parser_version

    before = parser_version(Settings())
    data = tmp_path / "data"
    shutil.copytree(text.DATA, data)
    with open(data / "userdict.txt", "a", encoding="utf-8") as f:
        f.write("主题教育 20 n\n")
    monkeypatch.setattr(text, "DATA", data)
    text.tokenizer_version.cache_clear()
    try:
        assert parser_version(Settings()) != before
    finally:
        monkeypatch.undo()
        text.tokenizer_version.cache_clear()
    assert parser_version(Settings()) == before
