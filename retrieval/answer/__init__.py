"""Direct answers above the passages, and how a conversation's questions are read.

direct (a figure sentence or the items of the one section that answers; extractive only, abstaining
rather than misleading) · topic (what a question is about) · follow_up ("那原因呢？" keeps the topic).
"""
from .direct import Answer, Quote, direct_answer, figure_sentence, list_items
from .follow_up import FollowUp, follow_up
from .topic import compare_topic, topic_of

__all__ = ["Answer", "FollowUp", "Quote", "compare_topic", "direct_answer", "figure_sentence", "follow_up",
           "list_items", "topic_of"]
