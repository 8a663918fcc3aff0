"""Use cases of 比进度·比创新·比质效: activities, scores, the board with ranks and 双亮牌, the 台账, the year's results, the
digest; one module each."""

from .activities import ActivityAdded, add_activity
from .basis import COLOUR_CN, card_of
from .board import Board, BoardRow, board, board_for, board_in, is_evaluator, units_compared
from .digest import DigestSent, period_of, send_digest
from .ledger import Ledger, ledger, ledger_for
from .orgs import OrgRollup, org_rollup
from .results import ItemResult, Results, results
from .scores import ScoreSet, set_score

__all__ = ["COLOUR_CN", "ActivityAdded", "Board", "BoardRow", "DigestSent", "ItemResult", "Ledger", "OrgRollup", "Results", "ScoreSet",
           "add_activity", "board", "board_for", "board_in", "card_of", "is_evaluator", "ledger", "ledger_for", "org_rollup",
           "period_of", "results", "send_digest", "set_score", "units_compared"]
