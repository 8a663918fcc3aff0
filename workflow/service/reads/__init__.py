"""Reading items, one module for every shell: each function takes the viewer and shows only what he may see.

A viewer is a person (the workbench's, the API's, or a command's --actor), or `OPERATOR`, the operator at the
server's shell, who sees every item. Lists and one item: `reads.items`; an inbox and a person's lists:
`reads.inbox`; an item's page with its forms: `reads.page`; its documents: `reads.files`; the shapes they return:
`reads.shapes`.
"""

from .files import FileInfo, download, files_in, item_files
from .inbox import PAGE, inbox, involved, moved
from .items import history, list_items, show_item
from .page import item_page, late_on_move
from .search import Found, search
from .search import refresh as search_refresh
from .shapes import HistoryEntry, Inbox, InboxEntry, ItemDetail, ItemPage, ItemSummary
from .slips import Slip, item_slips, slip
from .starting import NO_GROUP, Startable, startable
from .viewer import OPERATOR, Operator, Viewer

__all__ = ["OPERATOR", "PAGE", "HistoryEntry", "Inbox", "InboxEntry", "ItemDetail", "ItemPage", "ItemSummary",
           "Operator", "Viewer", "history", "inbox", "involved", "item_page", "late_on_move", "list_items", "moved", "show_item",
           "FileInfo", "download", "files_in", "item_files", "Slip", "item_slips", "slip", "NO_GROUP", "Startable", "startable", "Found", "search", "search_refresh"]
