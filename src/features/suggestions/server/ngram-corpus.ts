/**
 * A small corpus of everyday writing for the n-gram tier of inline completion, written for
 * Flywheel (no third-party text). The user's own text is searched first; this only helps when it
 * has nothing. Teams replace it with text from their own product.
 */
export const NGRAM_CORPUS = `
Thank you for your message. I will get back to you as soon as possible.
Thank you for your time and for your help with this.
Thanks for the update. Let me know if you have any questions.
Please let me know if you have any questions or concerns.
Please find attached the document we discussed in our meeting.
I hope this message finds you well.
I am writing to follow up on our conversation from last week.
I would like to schedule a meeting to discuss the next steps.
Could you please send me the latest version of the report?
Looking forward to hearing from you.
Let me know what you think.
Let me know if there is anything else I can do to help.
As discussed in the meeting, we will move forward with the plan.
We will review the proposal and get back to you by the end of the week.
We are happy to announce that the new version is now available.
We apologize for any inconvenience this may have caused.
The meeting has been moved to next Tuesday at ten in the morning.
The project is on track and we expect to finish it by the end of the month.
The results of the experiment show that the new model is faster and more accurate.
In the meantime, please do not hesitate to contact me.
On the other hand, the cost of the change is still unclear.
At the end of the day, what matters is that the users are happy.
In order to improve the quality of the product, we need more feedback from our users.
For more information, please visit our website or contact our support team.
If you have any questions, feel free to reach out to me.
It was a pleasure to meet you yesterday.
Have a great weekend.
Best regards.
Kind regards.
`;
