"""Direct conversations and groups: creation, roles, limits, and who can see what."""

from __future__ import annotations

import pytest

from support.api import Api, ApiError, text_of


async def test_a_pair_has_exactly_one_direct_conversation(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    first = await api.direct(alice, bob)
    assert await api.direct(bob, alice) == first
    info = await api.call("GET", f"/v1/conversations/{first}", bob)
    assert info["kind"] == "direct"
    assert {m["username"] for m in info["members"]} == {alice.username, bob.username}


async def test_a_direct_conversation_with_oneself_is_refused(api: Api) -> None:
    alice = await api.register()
    with pytest.raises(ApiError) as error:
        await api.direct(alice, alice)
    assert error.value.code == "cannot_message_self"


async def test_group_creator_owns_it_and_every_change_is_an_event(api: Api) -> None:
    owner, a, b, c = [await api.register() for _ in range(4)]
    group = await api.group(owner, a, b, title="book club")
    info = await api.call("GET", f"/v1/conversations/{group}", owner)
    assert info["my_role"] == "owner"
    assert info["member_count"] == 3
    await api.call(
        "POST", f"/v1/conversations/{group}/members", owner, json={"usernames": [c.username]}
    )
    await api.call(
        "PUT", f"/v1/conversations/{group}/members/{a.username}/role", owner, json={"role": "admin"}
    )
    await api.call("DELETE", f"/v1/conversations/{group}/members/{b.username}", a)
    await api.call("PATCH", f"/v1/conversations/{group}", a, json={"title": "book club 2"})
    await api.call("POST", f"/v1/conversations/{group}/leave", c)
    events = await api.sync_all(owner)
    mine = [e for e in events if e["conversation_id"] == group]
    assert [e["type"] for e in mine] == [
        "conversation.created",
        "member.joined",
        "member.role_changed",
        "member.removed",
        "conversation.updated",
        "member.left",
    ]
    assert [e["seq"] for e in mine] == [1, 2, 3, 4, 5, 6]
    assert mine[3]["content"] == {
        "account_id": b.account_id,
        "username": b.username,
        "by": a.username,
    }


async def test_members_cannot_manage_and_admins_cannot_remove_admins(api: Api) -> None:
    owner, admin, admin2, member = [await api.register() for _ in range(4)]
    group = await api.group(owner, admin, admin2, member)
    for promoted in (admin, admin2):
        await api.call(
            "PUT",
            f"/v1/conversations/{group}/members/{promoted.username}/role",
            owner,
            json={"role": "admin"},
        )
    with pytest.raises(ApiError) as member_adds:
        await api.call(
            "POST",
            f"/v1/conversations/{group}/members",
            member,
            json={"usernames": [owner.username]},
        )
    assert (member_adds.value.status, member_adds.value.code) == (403, "insufficient_role")
    with pytest.raises(ApiError) as admin_removes_admin:
        await api.call("DELETE", f"/v1/conversations/{group}/members/{admin2.username}", admin)
    assert admin_removes_admin.value.status == 403
    with pytest.raises(ApiError) as admin_removes_owner:
        await api.call("DELETE", f"/v1/conversations/{group}/members/{owner.username}", admin)
    assert admin_removes_owner.value.status == 403
    with pytest.raises(ApiError) as admin_promotes:
        await api.call(
            "PUT",
            f"/v1/conversations/{group}/members/{member.username}/role",
            admin,
            json={"role": "admin"},
        )
    assert admin_promotes.value.status == 403


async def test_ownership_passes_to_the_longest_standing_admin_when_the_owner_leaves(
    api: Api,
) -> None:
    owner, early, late = [await api.register() for _ in range(3)]
    group = await api.group(owner, early)
    await api.call(
        "POST", f"/v1/conversations/{group}/members", owner, json={"usernames": [late.username]}
    )
    await api.call(
        "PUT",
        f"/v1/conversations/{group}/members/{late.username}/role",
        owner,
        json={"role": "admin"},
    )
    await api.call("POST", f"/v1/conversations/{group}/leave", owner)
    roles = {
        m["username"]: m["role"]
        for m in (await api.call("GET", f"/v1/conversations/{group}", late))["members"]
    }
    assert roles == {late.username: "owner", early.username: "member"}


async def test_transferring_ownership_demotes_the_old_owner_to_admin(api: Api) -> None:
    owner, heir = await api.register(), await api.register()
    group = await api.group(owner, heir)
    await api.call(
        "PUT",
        f"/v1/conversations/{group}/members/{heir.username}/role",
        owner,
        json={"role": "owner"},
    )
    roles = {
        m["username"]: m["role"]
        for m in (await api.call("GET", f"/v1/conversations/{group}", heir))["members"]
    }
    assert roles == {owner.username: "admin", heir.username: "owner"}


async def test_groups_have_a_configurable_size_limit(make_server) -> None:  # noqa: ANN001
    async with make_server(limits={"group_max_members": 3}) as server:
        api = Api(server.base_url)
        owner, a, b, c = [await api.register() for _ in range(4)]
        with pytest.raises(ApiError) as too_big:
            await api.group(owner, a, b, c)
        assert (too_big.value.status, too_big.value.code) == (409, "group_full")
        group = await api.group(owner, a, b)
        with pytest.raises(ApiError) as full:
            await api.call(
                "POST",
                f"/v1/conversations/{group}/members",
                owner,
                json={"usernames": [c.username]},
            )
        assert full.value.code == "group_full"
        await api.close()


async def test_direct_conversations_cannot_gain_members(api: Api) -> None:
    alice, bob, carol = [await api.register() for _ in range(3)]
    direct = await api.direct(alice, bob)
    with pytest.raises(ApiError) as error:
        await api.call(
            "POST",
            f"/v1/conversations/{direct}/members",
            alice,
            json={"usernames": [carol.username]},
        )
    assert error.value.status in (400, 403)


async def test_outsiders_get_the_same_answer_for_missing_and_foreign_conversations(
    api: Api,
) -> None:
    alice, bob, eve = [await api.register() for _ in range(3)]
    real = await api.direct(alice, bob)
    fake = "c_" + "a" * 26
    answers = []
    for conversation in (real, fake):
        for method, path, body in (
            ("GET", f"/v1/conversations/{conversation}", None),
            ("GET", f"/v1/conversations/{conversation}/messages", None),
            (
                "PUT",
                f"/v1/conversations/{conversation}/messages/t1",
                {"algorithm": "x", "ciphertext": "y"},
            ),
            ("POST", f"/v1/conversations/{conversation}/members", {"usernames": [eve.username]}),
            ("POST", f"/v1/conversations/{conversation}/leave", None),
        ):
            with pytest.raises(ApiError) as error:
                await api.call(method, path, eve, json=body)
            answers.append(
                (method, path.replace(conversation, "X"), error.value.status, error.value.body)
            )
    half = len(answers) // 2
    assert answers[:half] == answers[half:]
    assert all(status == 404 for _, _, status, _ in answers)


async def test_a_former_member_sees_nothing_sent_after_leaving(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    group = await api.group(alice, bob)
    await api.send(alice, group, "before")
    await api.call("POST", f"/v1/conversations/{group}/leave", bob)
    await api.send(alice, group, "after")
    events = await api.sync_all(bob)
    seen = [e for e in events if e["conversation_id"] == group]
    assert [e["type"] for e in seen] == ["conversation.created", "message", "member.left"]
    assert text_of(seen[1]) == "before"
    history = await api.history(bob, group)
    assert [e["type"] for e in history["events"]] == [
        "member.left",
        "message",
        "conversation.created",
    ]
    with pytest.raises(ApiError) as error:
        await api.send(bob, group, "still here?")
    assert error.value.status == 404


async def test_a_member_added_later_sees_events_from_the_join_on(api: Api) -> None:
    alice, bob, late = [await api.register() for _ in range(3)]
    group = await api.group(alice, bob)
    await api.send(alice, group, "before you came")
    await api.call(
        "POST", f"/v1/conversations/{group}/members", alice, json={"usernames": [late.username]}
    )
    await api.send(alice, group, "welcome")
    seen = [e for e in await api.sync_all(late) if e["conversation_id"] == group]
    assert [e["type"] for e in seen] == ["member.joined", "message"]
    assert text_of(seen[1]) == "welcome"
    assert [e["seq"] for e in (await api.history(late, group))["events"]] == [4, 3]


async def test_rejoining_a_direct_conversation_starts_a_new_visibility_period(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    direct = await api.direct(alice, bob)
    await api.send(alice, direct, "one")
    await api.call("POST", f"/v1/conversations/{direct}/leave", bob)
    await api.send(alice, direct, "while away")
    assert await api.direct(alice, bob) == direct
    await api.send(alice, direct, "back")
    texts = [text_of(e) for e in await api.sync_all(bob) if e["type"] == "message"]
    assert texts == ["one", "back"]


async def test_listing_shows_only_my_conversations(api: Api) -> None:
    alice, bob, carol = [await api.register() for _ in range(3)]
    mine = {await api.direct(alice, bob), await api.group(alice, carol)}
    await api.direct(bob, carol)
    listed = {
        c["conversation_id"]
        for c in (await api.call("GET", "/v1/conversations", alice))["conversations"]
    }
    assert listed == mine
