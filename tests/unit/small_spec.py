"""A small valid mapping spec (two V1 tables, a split, an array table) for unit tests."""

from __future__ import annotations

import csv
import io

from generator.inventory import Inventory, KeyProfile
from generator.registry import Registry, V1Table
from generator.spec import Spec, build_spec

REGISTRY = Registry((V1Table("user", 41), V1Table("team", 45), V1Table("transaction", 57)))
"""The V1 tables of the small spec."""

TABLES = """v2_table,v2_id,domain,v1_table,grain,array_path,parent,parent_column,description
u,1,user,user,row,,,,Users
u_roles,2,user,user,row,,u,user_id,Roles of a user
t,3,deals,transaction,row,,,,Deals
t_tags,4,deals,transaction,array,tags,t,t_id,Tags of a deal
"""
COLUMNS = """v2_table,column,v1_path,transform,v2_type,nullable,sensitive,references,description
u,id,$id,id,bigint,false,false,,Key
u,email,email,lower_trim,text,true,false,,Email
u,born,birthday,date,date,true,false,,Birthday
u_roles,id,$id,id,bigint,false,false,,Key
u_roles,user_id,$id,id,bigint,false,false,u,Owner
u_roles,is_admin,is_admin,boolean,boolean,true,false,,Admin flag
t,id,$id,id,bigint,false,false,,Key
t,owner_id,agent_id,bigint,bigint,true,false,u,Owner
t_tags,id,$element_id,id,bigint,false,false,,Key
t_tags,t_id,$parent_id,id,bigint,false,false,t,Deal
t_tags,position,$position,id,bigint,false,false,,Position
t_tags,tag,tags[],trim,text,true,false,,Tag
"""
IGNORED = """v1_table,key_path,reason
team,*,not migrated
"""
SENSITIVE = """pattern,reason
password,credential
*token*,credential
"""


def rows(text: str) -> list[tuple[int, dict[str, str]]]:
    return list(enumerate(csv.DictReader(io.StringIO(text)), start=2))


def small_spec() -> Spec:
    """The spec of TABLES, COLUMNS and IGNORED."""
    return build_spec(rows(TABLES), rows(COLUMNS), rows(IGNORED), rows(SENSITIVE),
                      registry=REGISTRY)


def inventory(*paths: str) -> Inventory:
    """An inventory holding ``table:path`` key paths (kind from the path's shape)."""
    keys = []
    for item in paths:
        table, path = item.split(":", 1)
        kind = "array" if "[]." in path else "object" if "." in path else "top"
        keys.append(KeyProfile(table, path, kind, rows_total=10, rows_with_key=5,
                               inferred_type="text"))
    return Inventory(tuple(keys))
