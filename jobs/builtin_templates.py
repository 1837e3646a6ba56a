"""Built-in job templates offered to every workspace.

Each template is a ready starting point for a job that Sona, the AI phone agent, follows on a
live call. Starting a job from a template copies these fields into a new job; later changes to
this module never alter jobs that were already made from it.

Every entry is a dict with these keys:

- ``key``: a stable slug identifying the template (never change it once shipped).
- ``name``: at most 100 characters; becomes the job's name.
- ``description``: at most 500 characters; what the job is for, for teammates.
- ``trigger``: at most 500 characters; the caller intent, i.e. when Sona should use the job.
- ``instructions``: at most 10,000 characters; the numbered steps Sona follows on the call.

The texts are written to work for any business as is: they refer to "the business's knowledge"
for facts such as hours, prices and addresses instead of naming them. They never name a specific
member or phone number in an action marker, because such a marker would fail validation in a
workspace where that member or number does not exist; transfers are described in words so the
business can insert its own transfer action from the editor. The only action marker used is
``[[Send SMS: ...]]`` with a generic example link that the business replaces with its own.

This module has no project imports so it can be loaded anywhere (migrations, commands, tests).
"""

BUILTIN_TEMPLATES: list[dict[str, str]] = [
    {
        "key": "take-a-message",
        "name": "Take a message",
        "description": (
            "Takes a complete message for someone who cannot come to the phone: who called, "
            "how to reach them, what it is about and how urgent it is. Use it as the fallback "
            "when nobody is available to talk."
        ),
        "trigger": (
            "Caller wants to leave a message for someone who is unavailable, asks for a person "
            "who is busy or out, or asks someone to call them back."
        ),
        "instructions": (
            "Goal: the caller wants to leave a message for someone who is not available. Take a "
            "complete, accurate message so the right person can call back.\n"
            "\n"
            "1. Tell the caller that the person they want is not available right now and that "
            "you will take a message.\n"
            '2. Ask: "Who is the message for?" If the caller does not know, write down '
            '"General" and continue.\n'
            '3. Ask: "May I have your full name, please?"\n'
            '4. Ask: "What is the best phone number to reach you?" If the caller says to use '
            "the number they are calling from, note that number.\n"
            "5. Read the phone number back digit by digit and ask the caller to confirm it.\n"
            '6. Ask: "What would you like the message to say?" Let the caller finish without '
            "interrupting.\n"
            '7. Ask: "Is this urgent, or is a call back today or tomorrow fine?"\n'
            '8. Ask: "Is there a best time to call you back?"\n'
            '9. Read the whole message back in one or two sentences and ask: "Did I get that '
            'right?" Correct anything the caller changes.\n'
            "10. Tell the caller the message will be passed on and that someone will call them "
            "back. Do not promise a specific time.\n"
            '11. Ask: "Is there anything else I can help you with?" If there is, handle it or '
            "offer to add it to the message.\n"
            "12. Thank the caller, say goodbye, and end the job.\n"
            "\n"
            "If the caller refuses to give their name or number: explain that without a way to "
            "reach them nobody can call back, then take the message anyway and note that no "
            "contact details were given.\n"
            "If the caller asks something you can answer from the business's knowledge, answer "
            "it before taking the message. Never make up an answer."
        ),
    },
    {
        "key": "qualify-a-lead",
        "name": "Qualify a lead",
        "description": (
            "Turns a new enquiry into a qualified lead: what the caller needs, for when, for "
            "what budget, who decides, and how to follow up. Gives sales a clear summary "
            "instead of a bare phone number."
        ),
        "trigger": (
            "A new or prospective customer asks about buying, hiring or working with the "
            "business, wants a quote or estimate, or asks whether the business can help with "
            "their project."
        ),
        "instructions": (
            "Goal: the caller is a potential new customer. Find out what they need and whether "
            "the business is a good fit, then collect what the team needs to follow up.\n"
            "\n"
            "1. Thank the caller for their interest in the business.\n"
            '2. Ask: "What can we help you with?" Let the caller describe what they need.\n'
            "3. Check the business's knowledge for whether the business offers what the caller "
            "needs. If it clearly does not, say so politely, suggest they look elsewhere, and "
            "skip to step 12.\n"
            '4. Ask: "When would you like this done, or when do you need it by?"\n'
            '5. Ask: "Do you have a budget in mind?" If the caller does not know or prefers '
            'not to say, note "Budget not given" and continue.\n'
            '6. Ask: "Are you the person who makes the decision, or is someone else involved?"\n'
            '7. Ask: "How did you hear about us?"\n'
            '8. Ask: "May I have your full name?"\n'
            '9. Ask: "What is the best phone number to reach you?" Read it back and ask the '
            "caller to confirm it.\n"
            '10. Ask: "What is your email address?" Spell it back to confirm it. If the '
            "caller does not want to share it, continue without it.\n"
            "11. Tell the caller that someone from the team will contact them to discuss next "
            "steps. Do not quote a final price or make commitments that are not in the "
            "business's knowledge.\n"
            '12. Ask: "Is there anything else you\'d like us to know?"\n'
            "13. Thank the caller, say goodbye, and end the job.\n"
            "\n"
            "If the caller asks about prices, answer only with prices found in the business's "
            "knowledge and explain that a final quote comes from the team.\n"
            "If the caller refuses to answer a question, do not press; note it and move on to "
            "the next step."
        ),
    },
    {
        "key": "escalate-to-a-person",
        "name": "Escalate to a person",
        "description": (
            "Hands the call to a human when the caller asks for one or Sona cannot help. "
            "Collects the reason first so the person picking up has context. Replace the "
            "transfer step with a Transfer call action for your team."
        ),
        "trigger": (
            "Caller asks to speak to a real person, a manager or a specific team, insists on "
            "not talking to an AI, or has a request Sona cannot handle with its jobs and "
            "knowledge."
        ),
        "instructions": (
            "Goal: the caller needs to speak to a person. Get the reason for the call, then "
            "transfer the call to the right person without making the caller repeat "
            "themselves.\n"
            "\n"
            "1. Tell the caller that you will connect them with a member of the team.\n"
            '2. Ask: "So they can help you quickly, can you tell me briefly what this is '
            'about?" If the caller refuses, say that is fine and go to step 4.\n'
            "3. Repeat the reason back in one sentence and ask the caller to confirm it.\n"
            '4. Ask: "May I have your name, please?"\n'
            '5. Ask: "If we get cut off, what is the best number to call you back on?" Read '
            "it back to confirm it.\n"
            '6. Ask: "Is it all right if I transfer you now? It may take a moment for someone '
            'to answer."\n'
            "7. If the caller agrees, transfer the call to the on-call person for the business. "
            "Tell the caller that if nobody answers, they can leave a voicemail.\n"
            "8. If the caller does not want to be transferred, offer to take a message instead: "
            'ask "What would you like the message to say?" and read it back to confirm it.\n'
            "9. End the job.\n"
            "\n"
            "If the caller is upset, stay calm, apologise for the trouble, and do not argue.\n"
            "If the caller reports a medical emergency, a fire or a crime in progress, tell them "
            "to hang up and call the emergency services immediately, then end the job.\n"
            "Never claim to be a person. If asked, say that you are the business's AI "
            "assistant."
        ),
    },
    {
        "key": "troubleshoot-a-problem",
        "name": "Troubleshoot a problem",
        "description": (
            "Walks a customer through basic troubleshooting for a product or service problem "
            "using the business's knowledge, and escalates with a clear problem summary when "
            "the basic steps do not fix it."
        ),
        "trigger": (
            "Existing customer reports that something is not working, is broken or behaves "
            "unexpectedly, and wants help fixing it."
        ),
        "instructions": (
            "Goal: the caller has a problem with a product or service from the business. Try "
            "to solve it with known fixes; if that fails, collect a clear report so the team "
            "can follow up.\n"
            "\n"
            "1. Tell the caller you are sorry about the trouble and that you will try to help.\n"
            '2. Ask: "What product or service is this about?"\n'
            '3. Ask: "What is happening, and what did you expect to happen?"\n'
            '4. Ask: "When did this start?"\n'
            '5. Ask: "Have you tried anything to fix it yet?" Note what the caller already '
            "tried so you do not repeat it.\n"
            "6. Look in the business's knowledge for troubleshooting steps that match the "
            "problem. If there are none, go to step 10.\n"
            "7. Give the caller one troubleshooting step at a time in plain words, and wait "
            "while they do it.\n"
            '8. After each step, ask: "Is it working now?" If it is, go to step 13.\n'
            "9. If the known steps run out and the problem remains, tell the caller that the "
            "team will need to look into it.\n"
            '10. Ask: "May I have your full name?"\n'
            '11. Ask: "What is the best phone number to reach you?" Read it back to confirm '
            "it. If the caller has an account or order number, ask for it too.\n"
            "12. Summarise the problem and what was tried in two sentences, and tell the caller "
            "that someone will contact them about it. If the problem stops the caller from "
            "working or is a safety risk, offer to transfer the call to the on-call person "
            "instead.\n"
            '13. Ask: "Is there anything else I can help you with?"\n'
            "14. Thank the caller, say goodbye, and end the job.\n"
            "\n"
            "Never guess a fix that is not in the business's knowledge. If the caller describes "
            "a danger such as smoke, sparks, a gas smell or water near electricity, tell them "
            "to stop using the item and to call the emergency services if anyone is at risk."
        ),
    },
    {
        "key": "schedule-an-appointment",
        "name": "Schedule an appointment",
        "description": (
            "Collects an appointment request: the service, preferred days and times, and the "
            "caller's details, and confirms them back. The team confirms the final slot."
        ),
        "trigger": (
            "Caller wants to book, make, reschedule or cancel an appointment, visit, "
            "consultation or reservation."
        ),
        "instructions": (
            "Goal: the caller wants to book, change or cancel an appointment. Collect what the "
            "team needs to confirm it.\n"
            "\n"
            '1. Ask: "Would you like to book a new appointment, change an existing one, or '
            'cancel one?"\n'
            '2. If the caller wants to change or cancel, ask: "What name is the appointment '
            'under, and what day and time is it?" Then go to step 8.\n'
            '3. Ask: "What is the appointment for?" Check the business\'s knowledge that the '
            "business offers this service. If it does not, say so politely and skip to step "
            "11.\n"
            '4. Ask: "Have you been to us before?"\n'
            '5. Ask: "Which days and times work best for you?" Offer only days and times '
            "within the business's opening hours from the business's knowledge.\n"
            '6. Ask: "Is there a second option in case that time is taken?"\n'
            '7. Ask: "Is there anything we should know before your appointment?"\n'
            '8. Ask: "May I have your full name?"\n'
            '9. Ask: "What is the best phone number to reach you?" Read it back digit by '
            "digit to confirm it.\n"
            "10. Read back the request: the service, the preferred times (or the appointment "
            'to change or cancel) and the caller\'s name. Ask: "Is that all correct?" Tell '
            "the caller the team will contact them to confirm the time. Do not say the "
            "appointment is confirmed unless the business's knowledge says you can book "
            "directly.\n"
            '11. Ask: "Is there anything else I can help you with?"\n'
            "12. Thank the caller, say goodbye, and end the job.\n"
            "\n"
            "If the caller does not know which service they need, ask them to describe what "
            "they want help with and note their words.\n"
            "If the caller asks about prices or how to get there, answer only from the "
            "business's knowledge; if it is not there, say the team will tell them when they "
            "confirm."
        ),
    },
    {
        "key": "send-an-intake-form",
        "name": "Send an intake form",
        "description": (
            "Texts new customers a link to the intake form so they can fill it in before their "
            "visit. Replace the example link in the Send SMS action with your own form."
        ),
        "trigger": (
            "New customer or patient is about to visit or start a service and needs the intake "
            "or registration form, or asks what paperwork to fill in before their first visit."
        ),
        "instructions": (
            "Goal: the caller needs the business's intake form. Send it to them by text message "
            "and make sure they know when to fill it in.\n"
            "\n"
            "1. Tell the caller that new customers fill in a short intake form before their "
            "first visit, and that you can text them the link.\n"
            '2. Ask: "Are you calling from a mobile phone that can receive text messages?"\n'
            "3. If the caller says no, tell them the team will send the form another way. Ask: "
            '"May I have your name and your email address?" Spell the email back to confirm '
            "it, then go to step 8.\n"
            '4. Ask: "Is it all right if I text the link to the number you are calling '
            'from?"\n'
            "5. If the caller agrees, send the text message:\n"
            "[[Send SMS: Thanks for calling! Please fill in our intake form before your visit: "
            "https://example.com/intake]]\n"
            '6. Ask: "Did you receive the text?" If not, ask them to wait a minute and check '
            "again. If it still has not arrived, note that the text did not arrive and tell "
            "the caller the team will follow up.\n"
            "7. Tell the caller to complete the form before their appointment, and that it "
            "takes only a few minutes.\n"
            '8. Ask: "Do you have any questions about the form?" Answer only from the '
            "business's knowledge. If you do not know the answer, say the team will help them "
            "with it at their visit.\n"
            '9. Ask: "Is there anything else I can help you with?"\n'
            "10. Thank the caller, say goodbye, and end the job.\n"
            "\n"
            "If the caller refuses to receive a text message, do not send one; offer the email "
            "option in step 3 instead.\n"
            "You can only text the caller on this call. Never offer to text a different number."
        ),
    },
    {
        "key": "answer-after-hours-calls",
        "name": "Answer after-hours calls",
        "description": (
            "Handles calls outside business hours: tells callers when the business reopens, "
            "answers simple questions, takes a message, and routes real emergencies to the "
            "on-call person if the business has one."
        ),
        "trigger": (
            "Caller reaches the business outside its opening hours, on a weekend or on a "
            "holiday, and wants help, information or to leave a message."
        ),
        "instructions": (
            "Goal: the caller is calling while the business is closed. Help with what you can, "
            "take a message for the rest, and make sure urgent problems are not missed.\n"
            "\n"
            "1. Tell the caller that the business is currently closed, and give the opening "
            "hours from the business's knowledge. If the hours are not in the business's "
            "knowledge, say the team will be back on the next business day.\n"
            '2. Ask: "How can I help you?"\n'
            "3. If the question can be answered from the business's knowledge (for example "
            "hours, address, or services), answer it, then go to step 10.\n"
            '4. Ask: "Is this an emergency that cannot wait until we open?"\n'
            "5. If the caller reports a danger to life or property, tell them to hang up and "
            "call the emergency services now, then end the job.\n"
            "6. If it is urgent for the business and the business has an on-call person, "
            'ask: "May I transfer you to our on-call person?" If the caller agrees, transfer '
            "the call to the on-call person and end the job.\n"
            '7. Otherwise, tell the caller you will take a message for the team. Ask: "May I '
            'have your full name?"\n'
            '8. Ask: "What is the best phone number to reach you?" Read it back to confirm '
            "it.\n"
            '9. Ask: "What would you like the team to know?" Read the message back and ask '
            "the caller to confirm it. Tell the caller the team will call back when the "
            "business opens.\n"
            '10. Ask: "Is there anything else I can help you with?"\n'
            "11. Thank the caller, say goodbye, and end the job.\n"
            "\n"
            "If the caller refuses to leave details, tell them when the business opens so "
            "they can call back, and end the job.\n"
            "Never promise a call back before the business opens unless the call was "
            "transferred to the on-call person."
        ),
    },
    {
        "key": "answer-pricing-questions",
        "name": "Answer pricing questions",
        "description": (
            "Answers questions about prices and fees using only the prices in the business's "
            "knowledge, and offers a follow-up from the team when a quote is needed. Keeps "
            "Sona from inventing prices."
        ),
        "trigger": (
            "Caller asks how much something costs, asks about prices, rates, fees, discounts, "
            "payment options or what is included, or wants a rough estimate."
        ),
        "instructions": (
            "Goal: the caller wants to know what something costs. Answer accurately from the "
            "business's knowledge and never guess a price.\n"
            "\n"
            '1. Ask: "Which product or service would you like a price for?"\n'
            '2. If the request is unclear, ask: "Can you tell me a bit more about what you '
            'need?"\n'
            "3. Look for the price in the business's knowledge.\n"
            "4. If the price is there, tell the caller the price and what it includes, exactly "
            "as written in the business's knowledge. Mention any conditions, such as taxes, "
            "minimums or call-out fees, that the business's knowledge lists.\n"
            "5. If the price depends on details of the job, explain that a quote is needed and "
            "say what the price depends on, if the business's knowledge says so.\n"
            "6. If the price is not in the business's knowledge, say: \"I don't have that "
            "price in front of me, but I can have someone from the team get back to you with "
            'it."\n'
            "7. If the caller asks about payment methods, discounts or financing, answer only "
            "from the business's knowledge; otherwise say the team will confirm.\n"
            '8. If a follow-up is needed, ask: "May I have your name and the best number to '
            'reach you?" Read the number back to confirm it. If the caller refuses, tell them '
            "they are welcome to call back during business hours.\n"
            '9. Ask: "Would you like to book an appointment or get started?" If yes, move to '
            "the job for booking or for new customers, if one is available.\n"
            '10. Ask: "Is there anything else I can help you with?"\n'
            "11. Thank the caller, say goodbye, and end the job.\n"
            "\n"
            "Never make up, round or estimate a price, and never promise a discount that is "
            "not in the business's knowledge. If the caller pushes for a number, repeat that "
            "the team will give an exact quote."
        ),
    },
    {
        "key": "handle-a-complaint",
        "name": "Handle a complaint",
        "description": (
            "Listens to an unhappy customer, records the complaint in full, and makes sure the "
            "right person follows up. Sona apologises and acknowledges but never admits fault, "
            "offers refunds or promises compensation."
        ),
        "trigger": (
            "Caller is unhappy with a product, service, bill or staff member, wants to make a "
            "complaint, asks for a refund, or says something went wrong with their order or "
            "visit."
        ),
        "instructions": (
            "Goal: the caller is unhappy and wants to complain. Let them be heard, record the "
            "complaint accurately, and make sure the team follows up.\n"
            "\n"
            "1. Thank the caller for letting the business know, and say you are sorry for the "
            "experience they had.\n"
            '2. Ask: "Can you tell me what happened?" Let the caller finish without '
            "interrupting.\n"
            '3. Repeat the main points back in one or two sentences and ask: "Have I '
            'understood that correctly?"\n'
            '4. Ask: "When did this happen?"\n'
            '5. Ask: "Do you have an order, invoice or account number?" If not, continue.\n'
            '6. Ask: "What would you like us to do to put this right?" Note the answer '
            "without agreeing to it.\n"
            '7. Ask: "May I have your full name?"\n'
            '8. Ask: "What is the best phone number to reach you?" Read it back to confirm '
            "it.\n"
            "9. Tell the caller that the complaint will be passed to the team, and that "
            "someone will contact them about it. Do not promise a refund, compensation or a "
            "specific time.\n"
            "10. If the caller asks to speak to a person now, offer to transfer the call to "
            "the person who handles complaints, and transfer it if they agree.\n"
            '11. Ask: "Is there anything else you\'d like to add?"\n'
            "12. Thank the caller for their patience, say goodbye, and end the job.\n"
            "\n"
            "Stay calm and polite even if the caller is angry; never argue or blame anyone. "
            "If the caller becomes abusive, say once that you want to help but cannot continue "
            "if the abuse goes on; if it continues, say goodbye and end the job.\n"
            "If the caller refuses to give their details, record the complaint anyway and note "
            "that no contact details were given."
        ),
    },
]
