"""The tables of the documents: blobs kept by content (SHA-256) in chunks, and the files attached to items' steps."""

from __future__ import annotations

from sqlalchemy import (
             BigInteger,
             Column,
             ForeignKey,
             Integer,
             LargeBinary,
             PrimaryKeyConstraint,
             String,
             Table,
)

from .models import UTCDateTime, metadata

# One row per distinct content, whoever uploaded it and however often: the SHA-256 of its bytes is its key.
Blob = Table("blobs", metadata, Column("sha256", String(64), primary_key=True), Column("size", BigInteger, nullable=False),
             Column("kind", String(10), nullable=False), Column("created_at", UTCDateTime(), nullable=False))
# The content in chunks of a mebibyte (workflow.files.CHUNK), so no read or write holds a whole file in memory.
BlobChunk = Table("blob_chunks", metadata, Column("sha256", String(64), ForeignKey("blobs.sha256"), nullable=False),
                  Column("seq", Integer, nullable=False), Column("data", LargeBinary, nullable=False),
                  PrimaryKeyConstraint("sha256", "seq", name="pk_blob_chunks"))
# A file given in a field at a step (its round: the visit of the step's state): its safe name, size, kind, content.
ItemFile = Table("item_files", metadata, Column("id", Integer, primary_key=True),
                 Column("item_id", Integer, ForeignKey("items.id"), nullable=False, index=True),
                 Column("step_id", Integer, ForeignKey("steps.id"), nullable=False),
                 Column("field", String(64), nullable=False), Column("round", Integer, nullable=False),
                 Column("name", String(200), nullable=False), Column("size", BigInteger, nullable=False),
                 Column("kind", String(10), nullable=False),
                 Column("sha256", String(64), ForeignKey("blobs.sha256"), nullable=False),
                 Column("uploaded_by", String(64), nullable=False), Column("uploaded_at", UTCDateTime(), nullable=False))
