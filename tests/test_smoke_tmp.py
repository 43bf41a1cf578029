async def test_coordinator_opens_dialog(cast):
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    await cast.open_dialog(coord, "Emma", "barn", "Vi vil styrke Emmas trivsel i skolen.")
    mom = cast.person("Mette")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    teacher = cast.person("Hanne")
    await cast.invite(coord, teacher, "Professional", "Klasselærer")
    await cast.join(teacher)
    await cast.join(mom)
    await cast.consent(mom)
    for p in (coord, mom, teacher):
        print("=====", p.name)
        for m in p.phone.chat:
            print(("BOT: " if m.from_bot else "ME:  ") + m.text)
