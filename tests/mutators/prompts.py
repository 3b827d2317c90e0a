"""Real handcrafted prompts used by the mutator tests.

English ones follow the paper's Tables 9-17 (their English glosses) and the
Rotten Tomatoes prompts of docs/mutators.md; Chinese ones are the paper's own.
"""

from __future__ import annotations

SENTIMENT_EN = (
    "Review: [X] Sentiment: _",
    "[X] All in all, the movie was _ .",
    "Is this review good or bad? [X] Answer: _",
)

EN_PROMPTS = (
    *SENTIMENT_EN,
    '"[X]", What is the attitude of this car review? _',
    "What is the topic of the following news? _. News text: [X]",
    "Who wrote the news text? Answer: _ [X]",
    "Corpus: [X1] Question: [X2] Answer: _",
    "How did they figure that out? Corpus: [X1] Question: [X2] Answer: _",
    'In the general context, what is the logical relationship between the first sentence "[X1]" and the second sentence "[X2]"? Answer: _.',
    'In finance context, the first sentence: "[X1]" the second sentence: "[X2]", the meaning of these two sentences is _',
    "In the sentence: [X1], does the pronoun [X2] refer to [X3]? Answer: _.",
    "Text from newspaper: Which words of [X1] belong to [X2]? Answer: _.",
    "[X], A summary of this education-related text: _.",
    "[X] The words in the domain dictionary of this field should be _.",
    "This sentence: [X]. Does the customer show objection about the company? Answer: _",
    "Premise: [X1] Hypothesis: [X2] Does the premise entail the hypothesis? _",
    "What is the intent of this request? [X] The intent is _ .",
    "Is this message spam? [X] Answer: _",
    "[X] The question above asks about _ .",
    "Headline: [X] Which section of the newspaper does it belong to? _",
)

ZH_PROMPTS = (
    "“[X]” 这句汽车评论的态度是什么? _。",
    "以下这篇新闻是关于什么主题的? _。新闻: [X]",
    "文章: [X1] 问题: [X2] 回答: _。",
    "[X], 这个教育相关的文本的摘要为: _。",
    "这句话: [X]。上文是否体现了客户对公司不信任? 回答: _",
)
